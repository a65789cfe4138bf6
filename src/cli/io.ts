// Where a command's output goes: the process's streams, or buffers in tests.

/** The part of a writable stream the CLI uses. */
export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface CliIO {
  stdout: Output;
  stderr: Output;
}

export function processIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr };
}
