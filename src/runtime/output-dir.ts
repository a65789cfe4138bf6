// Output folders are ours or refused. generate/save/up write only into a folder
// that is absent, empty, or marked as a k8s-img bundle folder (the marker is
// written on first use). The check touches nothing, and runs before any key is made.
import { readFileSync, readdirSync, realpathSync, statfsSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { HostError } from '../errors.js';
import { writeFileAtomic } from './files.js';
import { fsError, lstatOrUndefined } from './fs-errors.js';

export const BUNDLE_MARKER = '.k8s-img-bundle';
const MARKER_HEADER = 'k8s-img bundle folder';

/** What k8s-img keeps in an output folder: each kind has its own marker, so one is never taken for the other. */
export interface OutputKind {
  marker: string;
  header: string;
}
export const BUNDLE_FOLDER: OutputKind = { marker: BUNDLE_MARKER, header: MARKER_HEADER };
/** `k8s-img cis -o`: kube-bench's output per node and the report. */
export const CIS_FOLDER: OutputKind = { marker: '.k8s-img-cis', header: 'k8s-img cis results folder' };
const PSEUDO_ROOTS = ['/proc', '/sys', '/dev'];
// statfs magic numbers of kernel pseudo file systems (linux/magic.h).
const PSEUDO_FS = new Set([0x9fa0, 0x62656572, 0x27e0eb, 0x63677270, 0x64626720, 0x73636673, 0x74726163, 0xcafe4a11, 0x1cd1, 0x62656570, 0x6165676c, 0xde5e81e4, 0x19800202]);

export interface OutputCheck {
  /** The folder, absolute and with symbolic links resolved as far as it exists. */
  dir: string;
  /** Node folders a previous run recorded in the marker (they may be replaced). */
  nodes: string[];
  marked: boolean;
}

/** Places the output must neither be nor contain, with what they are. */
export interface Protected {
  path: string;
  what: string;
}

const refuse = (dir: string, why: string, hint: string): never => {
  throw new HostError(`refusing to write into ${dir}: ${why}`, hint);
};

/** The real path of `p`: its deepest existing ancestor resolved, the rest appended. */
export function realPathOf(p: string): string {
  const abs = resolve(p);
  let existing = abs;
  const rest: string[] = [];
  while (lstatOrUndefined(existing) === undefined && dirname(existing) !== existing) {
    rest.unshift(existing.slice(dirname(existing).length).replace(/^\//, ''));
    existing = dirname(existing);
  }
  try {
    return join(realpathSync(existing), ...rest);
  } catch (e) {
    // A dangling symbolic link or a loop on the way.
    throw new HostError(`refusing to write into ${p}: ${existing} is a symbolic link that leads nowhere (or into a loop)`, 'remove the link or point it at a folder', { cause: e });
  }
}

const inside = (child: string, parent: string) => child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);

/** The entries a marker lists: node folders ("node X") and, for other kinds, files ("file X"). */
function markerNodes(text: string, kind: OutputKind): string[] | undefined {
  const lines = text.split('\n');
  if (lines[0] !== kind.header) return undefined;
  return lines.slice(1).map((l) => /^(?:node|file) (\S+)$/.exec(l)?.[1]).filter((n): n is string => n !== undefined);
}

export function markerContent(nodes: string[], kind: OutputKind = BUNDLE_FOLDER, files: string[] = []): string {
  return `${kind.header}\n${[...nodes].sort().map((n) => `node ${n}\n`).join('')}${[...files].sort().map((f) => `file ${f}\n`).join('')}`;
}

/** Kernel pseudo file systems (/proc, /sys, /dev, cgroups, ...) are never written. */
export function refusePseudo(path: string, real = realPathOf(path), hint = 'choose a path on a normal disk'): void {
  for (const root of PSEUDO_ROOTS) if (inside(real, root)) refuse(path, `${root} is a kernel pseudo file system`, hint);
  let probe = real;
  while (lstatOrUndefined(probe) === undefined) probe = dirname(probe);
  if (PSEUDO_FS.has(Number(statfsSync(probe).type))) refuse(path, 'it is on a kernel pseudo file system', hint);
}

/**
 * Throws HostError (exit 3) unless k8s-img may write `dir`; changes nothing.
 * `ours`: a folder inside k8s-img's own state folder (up's bundles), made before markers existed.
 */
export function checkOutputDir(dir: string, protect: Protected[] = [], opts: { ours?: boolean; kind?: OutputKind } = {}): OutputCheck {
  const kind = opts.kind ?? BUNDLE_FOLDER;
  const real = realPathOf(dir);
  const hint = 'pass -o with a new or empty folder, e.g. -o out';
  if (real === '/') refuse(dir, 'it is the root folder', hint);
  refusePseudo(dir, real, hint);
  for (const p of protect) {
    const at = realPathOf(p.path);
    if (inside(at, real)) refuse(dir, at === real ? `it is ${p.what}` : `it holds ${p.what} (${relative(real, at) || '.'})`, hint);
  }

  const st = lstatOrUndefined(real);
  if (st === undefined) return { dir: real, nodes: [], marked: false };
  if (!st.isDirectory()) refuse(dir, 'it is a file, not a folder', hint);
  let entries: string[];
  try {
    entries = readdirSync(real);
  } catch (e) {
    throw fsError(e, `cannot list ${real}`);
  }
  if (entries.length === 0) return { dir: real, nodes: [], marked: false };
  const marker = join(real, kind.marker);
  const nodes = entries.includes(kind.marker) && statSync(marker).isFile() && statSync(marker).size < 65536 ? markerNodes(readFileSync(marker, 'utf8'), kind) : undefined;
  if (!nodes && opts.ours) return { dir: real, nodes: entries, marked: false };
  if (!nodes) {
    const shown = entries.slice(0, 5).join(', ') + (entries.length > 5 ? `, … (${entries.length} entries)` : '');
    refuse(dir, `it holds files k8s-img did not make (${shown})`, `${hint}; k8s-img replaces what it finds in its ${kind === BUNDLE_FOLDER ? 'bundle' : 'output'} folders, so it writes only where ${kind.marker} says the folder is its own`);
  }
  const foreign = entries.filter((e) => e !== kind.marker && !nodes!.includes(e));
  if (foreign.length > 0) refuse(dir, `besides the node folders it holds ${foreign.slice(0, 5).join(', ')}`, 'move those files out of the folder; writing it again would remove them');
  return { dir: real, nodes: nodes!, marked: true };
}

/** Marks `dir` as a bundle folder of `nodes` (creating it), for writers that add to it in place (save). */
export function markOutputDir(check: OutputCheck, nodes: string[]): void {
  const all = [...new Set([...check.nodes, ...nodes])];
  if (check.marked && all.length === check.nodes.length) return;
  writeFileAtomic(join(check.dir, BUNDLE_MARKER), markerContent(all));
}
