// How errors and warnings reach the user: once, at the entry point, on stderr.
import { BuildError, ConfigError, K8sImgError, formatProblem, type Problem } from '../errors.js';
import { fsError, isErrnoError } from '../runtime/fs-errors.js';
import type { Output } from './io.js';

export function printWarnings(problems: Problem[], out: Output): void {
  for (const p of problems) if (p.severity === 'warning') out.write(`${formatProblem(p)}\n`);
}

export function printError(error: unknown, out: Output): number {
  // A file-system error that no runtime function wrapped is still a host problem, not ours.
  const e = isErrnoError(error) ? fsError(error, `${error.syscall ?? 'file operation'} ${error.path ?? ''}`.trim()) : error;
  if (e instanceof ConfigError) {
    for (const p of e.problems) out.write(`${formatProblem(p)}\n`);
    out.write(`error: ${e.message}; nothing was written\n`);
    return e.exitCode;
  }
  if (e instanceof K8sImgError) {
    out.write(`error: ${e.message}\n`);
    if (e instanceof BuildError && e.logTail.length > 0) out.write(`${e.logTail.map((l) => `  | ${l}`).join('\n')}\n`);
    if (e.hint) out.write(`hint: ${e.hint}\n`);
    return e.exitCode;
  }
  const err = e as Error;
  out.write(`internal error: ${err?.stack ?? String(e)}\n`);
  return 1;
}
