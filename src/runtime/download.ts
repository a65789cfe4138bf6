// HTTP(S) and file:// downloads to a file, with progress.
import { createWriteStream, copyFileSync, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { FetchError } from '../errors.js';

export async function downloadTo(url: string, file: string, onProgress?: (bytes: number, total?: number) => void): Promise<void> {
  if (url.startsWith('file://')) {
    copyFileSync(fileURLToPath(url), file);
    return;
  }
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow' });
  } catch (e) {
    throw new FetchError(`cannot reach ${url}: ${(e as Error).cause ?? (e as Error).message}`, 'check binaries.releaseURL and the network path to the mirror');
  }
  if (!res.ok || !res.body) throw new FetchError(`${url}: HTTP ${res.status} ${res.statusText}`, 'check that the mirror holds this version (k8s-img fetch --export makes such a mirror)');
  const total = Number(res.headers.get('content-length')) || undefined;
  let bytes = 0;
  const body = Readable.fromWeb(res.body as never);
  body.on('data', (c: Buffer) => {
    bytes += c.length;
    onProgress?.(bytes, total);
  });
  await pipeline(body, createWriteStream(file));
}

export async function downloadText(url: string): Promise<string> {
  if (url.startsWith('file://')) return readFileSync(fileURLToPath(url), 'utf8');
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow' });
  } catch (e) {
    throw new FetchError(`cannot reach ${url}: ${(e as Error).cause ?? (e as Error).message}`, 'check binaries.releaseURL');
  }
  if (!res.ok) throw new FetchError(`${url}: HTTP ${res.status} ${res.statusText}`, 'the mirror must publish a checksum file next to each archive');
  return res.text();
}

/** Finds the checksum for `file` in a checksum file: a bare digest, or `<digest>  <name>` lines. */
export function checksumFor(text: string, file: string): string | undefined {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  if (lines.length === 1 && /^[0-9a-f]{64,128}$/i.test(lines[0]!)) return lines[0]!.toLowerCase();
  for (const l of lines) {
    const m = /^([0-9a-f]{64,128})\s+\*?(\S+)$/i.exec(l);
    if (m && (m[2] === file || m[2]!.endsWith(`/${file}`))) return m[1]!.toLowerCase();
  }
  return undefined;
}
