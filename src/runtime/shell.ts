// Words for a POSIX shell: what goes to a machine's login shell over SSH, and the
// paths a cleanup script names.

/** One argument, single-quoted unless plain; quotes inside escaped. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** argv as one command line, run in `dir` when given. */
export function commandLine(argv: string[], dir?: string): string {
  const cmd = argv.map(shellQuote).join(' ');
  return dir ? `cd ${shellQuote(dir)} && ${cmd}` : cmd;
}
