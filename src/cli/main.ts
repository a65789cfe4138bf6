// The k8s-img command line, callable in-process: run(args, io) returns the exit
// code and never exits the process. Commands are thin (flags → pipeline call) and
// loaded only when they run. Errors are printed once, here, with their exit code.
import yargs, { type Argv } from 'yargs';
import { K8sImgError, UsageError } from '../errors.js';
import { TOOL_VERSION } from '../version.js';
import { COMMANDS, type CommandSpec } from './commands.js';
import { processIO, type CliIO } from './io.js';
import { SINGLE_VALUED } from './options.js';
import { printError } from './output.js';

export async function run(args: string[], io: CliIO = processIO()): Promise<number> {
  try {
    let parser = yargs(args)
      .scriptName('k8s-img')
      .usage('$0 <command> [options]\n\nKubernetes from container images: one image per component, one Docker Compose stack per node.');
    for (const spec of COMMANDS) parser = parser.command(toYargs(spec, io));
    await parser
      .demandCommand(1, 'name a command')
      .strict()
      .help()
      .alias('h', 'help')
      .version(TOOL_VERSION)
      .exitProcess(false)
      .wrap(Math.min(110, io.stdout.columns || 100))
      .middleware(rejectRepeatedOptions)
      .fail((msg, err) => {
        // yargs reports its own parse errors as YError: those are usage slips too.
        if (err && (err instanceof K8sImgError || err.name !== 'YError')) throw err;
        throw new UsageError(msg ?? err?.message ?? 'invalid command line', 'see k8s-img --help');
      })
      // With a callback yargs hands over --help/--version text instead of printing it.
      .parseAsync(args, {}, (_err, _argv, output) => {
        if (output) io.stdout.write(`${output}\n`);
      });
    return 0;
  } catch (e) {
    return printError(e, io.stderr);
  }
}

function toYargs(spec: CommandSpec, io: CliIO) {
  return {
    command: spec.command,
    describe: spec.describe,
    builder: (y: Argv) => (spec.builder ? spec.builder(y) : y),
    handler: async (argv: unknown) => {
      const mod = await spec.load();
      await mod.run(argv as never, io);
    },
  };
}

/** `-c a -c b` would silently take one of them: refuse it instead. */
function rejectRepeatedOptions(argv: Record<string, unknown>): void {
  for (const key of SINGLE_VALUED) {
    const v = argv[key];
    if (Array.isArray(v)) throw new UsageError(`--${key} is given ${v.length} times`, `give --${key} once`);
    if (v === '') throw new UsageError(`--${key} needs a value`, 'see k8s-img --help');
  }
}
