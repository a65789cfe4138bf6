// Progress for long work. Pipelines talk to a Reporter; the CLI prints it,
// tests record it.
import type { Output } from '../cli/io.js';

export interface Reporter {
  /** Runs one named step, showing that it started, how it ended and how long it took. */
  step<T>(title: string, fn: (update: (detail: string) => void) => Promise<T>): Promise<T>;
  info(message: string): void;
  warn(message: string): void;
}

export const silentReporter: Reporter = {
  step: (_t, fn) => fn(() => {}),
  info: () => {},
  warn: () => {},
};

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export class ConsoleReporter implements Reporter {
  private readonly tty: boolean;
  constructor(private readonly out: Output = process.stderr) {
    this.tty = Boolean(out.isTTY) && !process.env.CI;
  }

  async step<T>(title: string, fn: (update: (detail: string) => void) => Promise<T>): Promise<T> {
    const started = Date.now();
    let detail = '';
    let lastPrinted = 0;
    let frame = 0;
    const line = () => `${FRAMES[frame++ % FRAMES.length]} ${title}${detail ? ` — ${detail}` : ''}`;
    const timer = this.tty ? setInterval(() => this.out.write(`\r\x1b[2K${line()}`), 100) : undefined;
    if (!this.tty) this.out.write(`• ${title} ...\n`);
    let lastText = '';
    const update = (d: string) => {
      detail = d;
      // Without a terminal, print a changed progress line at most every 15 s.
      if (!this.tty && d !== lastText && Date.now() - lastPrinted > 15000) {
        lastText = d;
        lastPrinted = Date.now();
        this.out.write(`  ${title}: ${d}\n`);
      }
    };
    const secs = () => ((Date.now() - started) / 1000).toFixed(1);
    try {
      const result = await fn(update);
      if (timer) clearInterval(timer);
      this.out.write(`${this.tty ? '\r\x1b[2K' : ''}✓ ${title} (${secs()}s)\n`);
      return result;
    } catch (e) {
      if (timer) clearInterval(timer);
      this.out.write(`${this.tty ? '\r\x1b[2K' : ''}✗ ${title} (${secs()}s)\n`);
      throw e;
    }
  }

  info(message: string): void {
    this.out.write(`${message}\n`);
  }

  warn(message: string): void {
    this.out.write(`warning: ${message}\n`);
  }
}
