// The bad-input corpus (test/fixtures/bad-input/*.yaml): each case is input
// files, a command line, the exit code and a message pattern. A case runs in a
// folder of its own; everything in it is snapshotted before and after the run.
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { FIXTURES } from './fixtures.js';
import { scratchDir } from './scratch.js';
import { runInProcess, type CliResult } from './cli.js';

export type Step =
  | { write: [string, string] }
  | { bytes: [string, string] } // base64
  | { big: [string, number] } // a file of that many bytes
  | { chmod: [string, number] }
  | { symlink: [string, string] } // [target, path]
  | { fifo: string }
  | { mkdir: string }
  | { rm: string }
  | { copy: [string, string] };

export interface BadInputCase {
  name: string;
  /** A valid fixture (test/fixtures/valid/NAME.yaml) copied to cluster.yaml, then edited by `replace`. */
  base?: string;
  replace?: [string, string][];
  files?: Record<string, string>;
  /** A state folder made by a real generate of the base (keys, certificates), before `setup`. */
  state?: boolean;
  setup?: Step[];
  /** `{dir}` stands for the case's folder. */
  args: string[];
  exit: number;
  stderr: string;
  /** The run may write (the default: the folder is byte-identical afterwards). */
  writes?: boolean;
}

export const BAD_INPUT = join(FIXTURES, 'bad-input');

/** What must never reach the user, whatever the input. */
export const NEVER = [/internal error/, /\n\s+at .*:\d+:\d+/, /parseAllDocuments|mapAsMap|9007199254740991|YAMLParseError|ZodError|ERR_[A-Z_]+|Error: E[A-Z]+:/];

/** Type, mode, size, content hash (link target) of everything under `dir`; FIFOs and devices are never opened. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      const r = rel ? `${rel}/${e}` : e;
      const st = lstatSync(p);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isDirectory()) {
        out[r] = `dir ${mode}`;
        walk(p, r);
      } else if (st.isSymbolicLink()) out[r] = `link ${readlinkSync(p)}`;
      else if (st.isFile()) out[r] = `file ${mode} ${st.size} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
      else out[r] = `special ${mode}`;
    }
  };
  walk(dir, '');
  return out;
}

const stateTemplates = new Map<string, string>();

/** Generates once per base config, in a folder of its own; cases copy the state folder. */
async function stateTemplate(base: string): Promise<string> {
  let dir = stateTemplates.get(base);
  if (!dir) {
    dir = scratchDir('k8s-img-state-');
    writeFileSync(join(dir, 'cluster.yaml'), readFileSync(join(FIXTURES, 'valid', `${base}.yaml`)));
    const r = await runInProcess(['generate', '-c', join(dir, 'cluster.yaml'), '-o', join(dir, 'out')]);
    if (r.code !== 0) throw new Error(`state template: ${r.stderr}`);
    stateTemplates.set(base, dir);
  }
  return dir;
}

function applyStep(dir: string, step: Step): void {
  const at = (p: string) => join(dir, p);
  if ('write' in step) writeFileSync(at(step.write[0]), step.write[1]);
  else if ('bytes' in step) writeFileSync(at(step.bytes[0]), Buffer.from(step.bytes[1], 'base64'));
  else if ('big' in step) writeFileSync(at(step.big[0]), Buffer.alloc(step.big[1], 0x61));
  else if ('chmod' in step) chmodSync(at(step.chmod[0]), step.chmod[1]);
  else if ('symlink' in step) symlinkSync(step.symlink[0].replace('{dir}', dir), at(step.symlink[1]));
  else if ('fifo' in step) execFileSync('mkfifo', [at(step.fifo)]);
  else if ('mkdir' in step) mkdirSync(at(step.mkdir), { recursive: true });
  else if ('rm' in step) rmSync(at(step.rm), { recursive: true, force: true });
  else if ('copy' in step) cpSync(at(step.copy[0]), at(step.copy[1]), { recursive: true });
}

/** Lays out the case in a new folder; returns it. */
export async function prepareCase(c: BadInputCase): Promise<string> {
  const dir = scratchDir('k8s-img-bad-');
  if (c.base) {
    let text = readFileSync(join(FIXTURES, 'valid', `${c.base}.yaml`), 'utf8');
    for (const [from, to] of c.replace ?? []) {
      if (!text.includes(from)) throw new Error(`case "${c.name}": "${from}" is not in ${c.base}.yaml`);
      text = text.split(from).join(to);
    }
    writeFileSync(join(dir, 'cluster.yaml'), text);
  }
  for (const [name, text] of Object.entries(c.files ?? {})) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  if (c.state) {
    const template = await stateTemplate(c.base ?? 'tutorial-secure');
    cpSync(join(template, '.k8s-img'), join(dir, '.k8s-img'), { recursive: true });
    chmodSync(join(dir, '.k8s-img', 'demo'), 0o700);
    // The copy belongs to this case's cluster file.
    writeFileSync(join(dir, '.k8s-img', 'demo', 'cluster-file'), `${join(dir, 'cluster.yaml')}\n`, { mode: 0o600 });
  }
  for (const step of c.setup ?? []) applyStep(dir, step);
  return dir;
}

export async function runCase(c: BadInputCase, dir: string): Promise<CliResult> {
  return runInProcess(c.args.map((a) => a.replace('{dir}', dir)), { cwd: dir });
}
