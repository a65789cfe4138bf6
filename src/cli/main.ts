// The k8s-img command line. Commands are thin: flags → pipeline call.
// Errors are printed once, here, with their exit code.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UsageError } from '../errors.js';
import { buildCommand } from './commands/build.js';
import { certsCommand } from './commands/certs.js';
import { downCommand } from './commands/down.js';
import { saveCommand } from './commands/save.js';
import { statusCommand } from './commands/status.js';
import { upCommand } from './commands/up.js';
import { verifyCommand } from './commands/verify.js';
import { versionsCommand } from './commands/versions.js';
import { fetchCommand } from './commands/fetch.js';
import { generateCommand } from './commands/generate.js';
import { initCommand } from './commands/init.js';
import { planCommand } from './commands/plan.js';
import { validateCommand } from './commands/validate.js';
import { printError } from './output.js';

export async function main(argv: string[]): Promise<number> {
  try {
    await yargs(argv)
      .scriptName('k8s-img')
      .usage('$0 <command> [options]\n\nKubernetes from container images: one image per component, one Docker Compose stack per node.')
      .command(initCommand)
      .command(validateCommand)
      .command(planCommand)
      .command(generateCommand)
      .command(fetchCommand)
      .command(buildCommand)
      .command(saveCommand)
      .command(upCommand)
      .command(downCommand)
      .command(statusCommand)
      .command(verifyCommand)
      .command(certsCommand)
      .command(versionsCommand)
      .demandCommand(1, 'name a command')
      .strict()
      .help()
      .alias('h', 'help')
      .version()
      .wrap(Math.min(110, process.stdout.columns || 100))
      .fail((msg, err) => {
        throw err ?? new UsageError(msg, 'see k8s-img --help');
      })
      .parseAsync();
    return 0;
  } catch (e) {
    return printError(e);
  }
}

process.exitCode = await main(hideBin(process.argv));
