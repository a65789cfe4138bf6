// Running external programs (go, gcc, mmdebstrap) with their output streamed by line.
import { spawn } from 'node:child_process';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Called for each line the program writes (stdout and stderr). */
  onLine?: (line: string) => void;
  /** Called for every chunk of output as it arrives (stdout and stderr), lines or not. */
  onData?: (chunk: string) => void;
  input?: string;
}

export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const lines = (chunk: string, carry: { rest: string }) => {
      const parts = (carry.rest + chunk).split('\n');
      carry.rest = parts.pop()!;
      for (const l of parts) opts.onLine?.(l);
    };
    const outCarry = { rest: '' };
    const errCarry = { rest: '' };
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      opts.onData?.(c);
      lines(c, outCarry);
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
      opts.onData?.(c);
      lines(c, errCarry);
    });
    child.on('error', reject);
    // A program that exits without reading its input (most do: input is usually empty)
    // closes the pipe first; that EPIPE is not a failure of the program.
    child.stdin.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') reject(e);
    });
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/** The last n non-empty lines of a program's output, for error messages. */
export function tail(text: string, n = 15): string[] {
  return text.split('\n').filter((l) => l.trim()).slice(-n);
}
