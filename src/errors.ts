// Typed errors with exit codes and hints. Only the CLI entry point prints them.

export const ExitCode = {
  ok: 0,
  internal: 1,
  invalidConfig: 2,
  host: 3,
  fetch: 4,
  build: 5,
  cluster: 6,
  usage: 64,
} as const;

export type Severity = 'error' | 'warning';

/** One finding about the configuration, reported as `<path>: <message>`. */
export interface Problem {
  path: string;
  message: string;
  hint?: string;
  severity: Severity;
}

export class K8sImgError extends Error {
  readonly exitCode: number = ExitCode.internal;
  constructor(
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The configuration is invalid; carries every problem found. */
export class ConfigError extends K8sImgError {
  override readonly exitCode = ExitCode.invalidConfig;
  constructor(readonly problems: Problem[], source = 'configuration') {
    super(`${source} is invalid (${problems.filter((p) => p.severity === 'error').length} error(s))`);
  }
}

export class UsageError extends K8sImgError {
  override readonly exitCode = ExitCode.usage;
}

export class HostError extends K8sImgError {
  override readonly exitCode = ExitCode.host;
}

export class FetchError extends K8sImgError {
  override readonly exitCode = ExitCode.fetch;
}

export class BuildError extends K8sImgError {
  override readonly exitCode = ExitCode.build;
  constructor(message: string, hint?: string, readonly logTail: string[] = [], options?: { cause?: unknown }) {
    super(message, hint, options);
  }
}

export class ClusterError extends K8sImgError {
  override readonly exitCode = ExitCode.cluster;
}

export function formatProblem(p: Problem): string {
  const tag = p.severity === 'warning' ? 'warning: ' : '';
  return visible(`${p.path}: ${tag}${p.message}${p.hint ? ` (hint: ${p.hint})` : ''}`);
}

/** Control characters from the user's input are shown escaped, never sent to the terminal. */
export function visible(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
