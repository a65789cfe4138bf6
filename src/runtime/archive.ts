// tar.gz archives for release mirrors: create from files, extract chosen members.
import { createReadStream, createWriteStream, readFileSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import tar from 'tar-stream';

/** Writes a .tar.gz holding `entries` (archive path → file on disk), in the given order. */
export async function createTarGz(out: string, entries: [string, string][]): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, createGzip({ level: 6 }), createWriteStream(out));
  for (const [name, file] of entries) {
    const st = statSync(file);
    await new Promise<void>((resolve, reject) => {
      pack.entry({ name, size: st.size, mode: st.mode & 0o777, mtime: new Date(0) }, readFileSync(file), (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await done;
}

const norm = (p: string) => p.replace(/^\.\//, '');

/** Extracts the members named in `wanted` (archive path → output file); returns those not found. */
export async function extractTarGz(archive: string, wanted: Map<string, string>): Promise<string[]> {
  const byName = new Map([...wanted].map(([k, v]) => [norm(k), v]));
  const found = new Set<string>();
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const target = byName.get(norm(header.name));
    if (!target || header.type !== 'file') {
      stream.resume();
      stream.on('end', next);
      return;
    }
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => chunks.push(c as Buffer));
    stream.on('end', () => {
      writeFileSync(target, Buffer.concat(chunks));
      chmodSync(target, 0o755);
      found.add(norm(header.name));
      next();
    });
  });
  await pipeline(createReadStream(archive), createGunzip(), extract);
  return [...byName.keys()].filter((k) => !found.has(k));
}
