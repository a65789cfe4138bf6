// SBOMs in the cache, filed under their sha256 (the digest an image's label names), and
// what k8s-img keeps about each binary it put in an image (sha1, Go build info).
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SpdxDocument } from '../render/sbom.js';
import { writeFileAtomic } from './files.js';
import type { GoToolchain } from './gotool.js';
import { cacheDir } from './paths.js';

const hexOf = (digest: string) => digest.replace(/^sha256:/, '');

export class SbomStore {
  constructor(readonly root = join(cacheDir(), 'sbom')) {}

  path(digest: string): string {
    return join(this.root, `${hexOf(digest)}.spdx.json`);
  }

  has(digest: string | undefined): boolean {
    return digest !== undefined && /^sha256:[0-9a-f]{64}$/.test(digest) && existsSync(this.path(digest));
  }

  /** Files the document; returns its digest. */
  put(text: string): string {
    const digest = `sha256:${createHash('sha256').update(text).digest('hex')}`;
    if (!this.has(digest)) {
      mkdirSync(this.root, { recursive: true });
      writeFileAtomic(this.path(digest), text);
    }
    return digest;
  }

  /** The document, if the store has it and it still has its digest. */
  get(digest: string | undefined): SpdxDocument | undefined {
    if (!digest || !this.has(digest)) return undefined;
    const text = readFileSync(this.path(digest), 'utf8');
    if (`sha256:${createHash('sha256').update(text).digest('hex')}` !== digest) return undefined;
    return JSON.parse(text) as SpdxDocument;
  }
}

export interface FileFacts {
  sha1: string;
  /** `go version -m` output, for Go binaries. */
  goBuildInfo?: string;
}

/** sha1 and Go build info of a cached binary, remembered by its sha256 (computed once). */
export async function fileFacts(path: string, sha256: string, go: GoToolchain | undefined, root = join(cacheDir(), 'bininfo')): Promise<FileFacts> {
  const record = join(root, `${sha256}.json`);
  if (existsSync(record)) {
    try {
      return JSON.parse(readFileSync(record, 'utf8')) as FileFacts;
    } catch {
      /* made again below */
    }
  }
  const h = createHash('sha1');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  const info = await go?.buildInfo(path);
  const facts: FileFacts = { sha1: h.digest('hex'), ...(info ? { goBuildInfo: info.replace(/^[^:\n]*:/, 'binary:') } : {}) };
  mkdirSync(root, { recursive: true });
  writeFileAtomic(record, JSON.stringify(facts));
  return facts;
}
