// Image layers as tar bytes we control: entries sorted by path, parents present, one
// fixed mtime, numeric owners without names, hard links pointing at the first path of
// their group. The encoding is our own (POSIX ustar, pax records only where ustar has no
// room) so a library update can never change an image ID. Pure: content stays a reference
// (a file to stream, or bytes) and the exact size of the layer is known before any is read.

export type EntryType = 'file' | 'dir' | 'symlink' | 'link' | 'char' | 'block' | 'fifo';

export interface LayerEntry<C = unknown> {
  /** Inside the image, without a leading slash; directories without a trailing one. */
  path: string;
  type: EntryType;
  /** Permission bits with setuid/setgid/sticky (07777). */
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of content (files only). */
  size: number;
  /** Symbolic link target as written, or the path a hard link shares its data with. */
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Extended attributes (pax SCHILY.xattr.*), e.g. security.capability. */
  xattrs?: Record<string, Buffer>;
  content?: C;
}

/** A piece of the layer's bytes: a header or padding, or an entry's content. */
export type LayerChunk<C> = Buffer | { content: C; size: number; path: string };

export interface EncodedLayer<C> {
  chunks: LayerChunk<C>[];
  size: number;
}

const BLOCK = 512;
const TYPEFLAG: Record<EntryType, string> = { file: '0', link: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };
const MAX_OCTAL_7 = 0o7777777;
const MAX_OCTAL_11 = 0o77777777777;

export class LayerError extends Error {}

/** `/usr//bin/./x/` → `usr/bin/x`; refuses `..` and empty paths. */
export function cleanPath(p: string): string {
  const parts = p.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.some((s) => s === '..')) throw new LayerError(`layer path ${JSON.stringify(p)} leaves the root`);
  return parts.join('/');
}

const byteCompare = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * The canonical form of a layer: paths cleaned, missing parent folders added (0755,
 * root), sorted bytewise, and each hard-link group's data on its first path in that
 * order. Two entries for one path are an error (the caller meant one of them).
 */
export function normalizeEntries<C>(input: readonly LayerEntry<C>[]): LayerEntry<C>[] {
  const byPath = new Map<string, LayerEntry<C>>();
  for (const e of input) {
    const path = cleanPath(e.path);
    if (path === '') continue; // the root folder itself: its metadata belongs to the engine
    if (byPath.has(path)) throw new LayerError(`layer path ${path} is given twice`);
    const entry: LayerEntry<C> = { ...e, path, mode: e.mode & 0o7777, size: e.type === 'file' ? e.size : 0 };
    if (e.type === 'link') entry.linkname = cleanPath(e.linkname ?? '');
    byPath.set(path, entry);
  }
  for (const path of [...byPath.keys()]) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      const p = byPath.get(parent);
      if (!p) byPath.set(parent, { path: parent, type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0 });
      else if (p.type !== 'dir') throw new LayerError(`layer path ${path} is under ${parent}, which is not a folder`);
    }
  }
  canonicalHardLinks(byPath);
  return [...byPath.values()].sort((a, b) => byteCompare(a.path, b.path));
}

/** Every hard-link group gets its data on the path that sorts first; the others link to it. */
function canonicalHardLinks<C>(byPath: Map<string, LayerEntry<C>>): void {
  const groups = new Map<string, string[]>();
  for (const e of byPath.values()) {
    if (e.type !== 'link') continue;
    let target = e.linkname!;
    const seen = new Set([e.path]);
    while (byPath.get(target)?.type === 'link' && !seen.has(target)) {
      seen.add(target);
      target = byPath.get(target)!.linkname!;
    }
    const holder = byPath.get(target);
    if (!holder || holder.type === 'link') throw new LayerError(`hard link ${e.path} points at ${e.linkname}, which is not in the layer`);
    if (holder.type === 'dir') throw new LayerError(`hard link ${e.path} points at the folder ${target}`);
    groups.set(target, [...(groups.get(target) ?? []), e.path]);
  }
  for (const [holderPath, links] of groups) {
    const members = [holderPath, ...links].sort(byteCompare);
    const first = members[0]!;
    const data = byPath.get(holderPath)!;
    byPath.set(first, { ...data, path: first });
    for (const m of members.slice(1)) {
      byPath.set(m, { path: m, type: 'link', mode: data.mode, uid: data.uid, gid: data.gid, size: 0, linkname: first });
    }
  }
}

const padTo = (n: number) => (BLOCK - (n % BLOCK)) % BLOCK;

function octal(buf: Buffer, offset: number, width: number, value: number): void {
  buf.write(`${value.toString(8).padStart(width - 1, '0')}\0`, offset, width, 'ascii');
}

/** name/prefix for ustar, or undefined when the path needs a pax record. */
function ustarName(name: string): { name: string; prefix: string } | undefined {
  const bytes = Buffer.byteLength(name);
  if (bytes <= 100) return { name, prefix: '' };
  for (let i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100 && rest !== '') return { name: rest, prefix };
  }
  return undefined;
}

/** At most `n` bytes of `s`, never cutting a character in two. */
function truncateUtf8(s: string, n: number): string {
  let out = '';
  for (const ch of s) {
    if (Buffer.byteLength(out + ch) > n) break;
    out += ch;
  }
  return out;
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

interface HeaderFields {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
  devmajor: number;
  devminor: number;
}

function header(f: HeaderFields): Buffer {
  const split = ustarName(f.name)!;
  const b = Buffer.alloc(BLOCK);
  b.write(split.name, 0, 100, 'utf8');
  octal(b, 100, 8, f.mode);
  octal(b, 108, 8, f.uid);
  octal(b, 116, 8, f.gid);
  octal(b, 124, 12, f.size);
  octal(b, 136, 12, f.mtime);
  b.fill(' ', 148, 156);
  b.write(f.typeflag, 156, 1, 'ascii');
  b.write(f.linkname, 157, 100, 'utf8');
  b.write('ustar\0', 257, 6, 'ascii');
  b.write('00', 263, 2, 'ascii');
  octal(b, 329, 8, f.devmajor);
  octal(b, 337, 8, f.devminor);
  b.write(split.prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return b;
}

/** The header block(s) of one entry: a pax record first when ustar cannot hold it. */
function entryHeaders(e: LayerEntry<unknown>, mtime: number): Buffer[] {
  const name = e.type === 'dir' ? `${e.path}/` : e.path;
  const linkname = e.linkname ?? '';
  const pax: Buffer[] = [];
  if (!ustarName(name)) pax.push(paxRecord('path', Buffer.from(name)));
  if (Buffer.byteLength(linkname) > 100) pax.push(paxRecord('linkpath', Buffer.from(linkname)));
  if (e.size > MAX_OCTAL_11) pax.push(paxRecord('size', Buffer.from(String(e.size))));
  if (e.uid > MAX_OCTAL_7) pax.push(paxRecord('uid', Buffer.from(String(e.uid))));
  if (e.gid > MAX_OCTAL_7) pax.push(paxRecord('gid', Buffer.from(String(e.gid))));
  for (const key of Object.keys(e.xattrs ?? {}).sort()) pax.push(paxRecord(`SCHILY.xattr.${key}`, e.xattrs![key]!));
  const out: Buffer[] = [];
  if (pax.length > 0) {
    const data = Buffer.concat(pax);
    const base = name.replace(/\/$/, '').split('/').pop()!;
    const paxName = `PaxHeaders/${truncateUtf8(base, 80)}`;
    out.push(header({ name: paxName, mode: 0o644, uid: 0, gid: 0, size: data.length, mtime, typeflag: 'x', linkname: '', devmajor: 0, devminor: 0 }));
    out.push(data, Buffer.alloc(padTo(data.length)));
  }
  out.push(
    header({
      // With a pax path the ustar name is only what old readers show.
      name: ustarName(name) ? name : truncateUtf8(name, 100),
      mode: e.mode,
      uid: Math.min(e.uid, MAX_OCTAL_7),
      gid: Math.min(e.gid, MAX_OCTAL_7),
      size: Math.min(e.size, MAX_OCTAL_11),
      mtime,
      typeflag: TYPEFLAG[e.type],
      linkname: Buffer.byteLength(linkname) <= 100 ? linkname : '',
      devmajor: e.devmajor ?? 0,
      devminor: e.devminor ?? 0,
    }),
  );
  return out;
}

/** One entry's bytes: header block(s), then its content and padding (files). */
export function encodeEntry<C>(e: LayerEntry<C>, mtime: number): LayerChunk<C>[] {
  const out: LayerChunk<C>[] = entryHeaders(e, mtime);
  if (e.type === 'file' && e.size > 0) {
    if (e.content === undefined) throw new LayerError(`layer file ${e.path} has no content`);
    out.push({ content: e.content, size: e.size, path: e.path });
    if (padTo(e.size) > 0) out.push(Buffer.alloc(padTo(e.size)));
  }
  return out;
}

/** The end-of-archive marker: two zero blocks. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);

export const chunkSize = (c: LayerChunk<unknown>) => (Buffer.isBuffer(c) ? c.length : c.size);

/**
 * The layer's bytes as chunks, for entries already normalised. Every header carries
 * `mtime` (seconds): the layer depends on nothing but its entries and that number.
 */
export function encodeLayer<C>(entries: readonly LayerEntry<C>[], mtime: number): EncodedLayer<C> {
  const chunks = [...entries.flatMap((e) => encodeEntry(e, mtime)), END_OF_ARCHIVE];
  return { chunks, size: chunks.reduce((n, c) => n + chunkSize(c), 0) };
}
