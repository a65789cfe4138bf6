// Runs the CLI: in-process through run() (fast, output captured), or as a real
// child process (the bin shim, signals, the integration suites).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { run } from '../../src/cli/main.js';
import { PACKAGE_ROOT } from '../../src/runtime/paths.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export const BIN = join(PACKAGE_ROOT, 'bin', 'k8s-img.js');

export function runCli(args: string[], opts: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** run() in this process; `cwd` is entered for the call and left afterwards. */
export async function runInProcess(args: string[], opts: { cwd?: string } = {}): Promise<CliResult> {
  const out = { stdout: '', stderr: '' };
  const io = {
    stdout: { write: (s: string) => (out.stdout += s) },
    stderr: { write: (s: string) => (out.stderr += s) },
  };
  const before = process.cwd();
  if (opts.cwd) process.chdir(opts.cwd);
  try {
    const code = await run(args, io);
    return { code, ...out };
  } finally {
    process.chdir(before);
  }
}
