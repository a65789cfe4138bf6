// The logs archive: text entries scrubbed of secrets, written as one tar.gz through a
// temporary file renamed into place (never half-written under its final name).
import { renameSync } from 'node:fs';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import { fsError } from './fs-errors.js';
import { removeTemp, trackTemp, untrackTemp } from './temp-cleanup.js';

const PRIVATE_KEY = /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(?:-----END \1PRIVATE KEY-----|$)/g;

/**
 * `text` without private keys (PEM blocks, whole or cut off) and without any of
 * `secrets` (tokens, keys, the values the cluster's state holds), each replaced by a
 * marker saying what was there.
 */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text.replace(PRIVATE_KEY, '[private key removed by k8s-img logs]');
  for (const s of secrets) if (s.length >= 8) out = out.split(s).join('[secret removed by k8s-img logs]');
  return out;
}

/** Writes `entries` (path in the archive → text) as a tar.gz at `out`. */
export async function writeLogArchive(out: string, entries: Map<string, string>, mtime: Date): Promise<void> {
  const tmp = `${out}.partial`;
  trackTemp(tmp);
  try {
    const pack = tar.pack();
    const done = pipeline(pack, createGzip({ level: 6 }), createWriteStream(tmp, { mode: 0o600, flags: 'wx' }));
    for (const [name, text] of entries) pack.entry({ name, mode: 0o644, mtime }, text);
    pack.finalize();
    await done;
    renameSync(tmp, out);
    untrackTemp(tmp);
  } catch (e) {
    removeTemp(tmp);
    throw fsError(e, `cannot write ${out}`);
  }
}
