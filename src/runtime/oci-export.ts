// Images out of the Docker engine as content-addressed blobs (`docker save` writes an
// OCI layout since engine 25), kept in a blob store in the cache. The cluster's
// registry is then written from the store with hard links.
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { BuildError } from '../errors.js';
import { normalizedName, parseImageName } from '../plan/image-name.js';
import type { DockerEngine } from './docker.js';
import { writeFileAtomic } from './files.js';
import { hostPlatform, resolveImage, type Descriptor, type Platform } from './oci-image.js';

/** One image as a registry stores it: its manifest and the blobs that manifest names. */
export interface OciImage {
  ref: string;
  /** Docker's image ID (the config digest). */
  id: string;
  manifest: string; // sha256:...
  mediaType: string;
  /** Config and layers. */
  blobs: string[];
}

const hexOf = (digest: string) => digest.replace(/^sha256:/, '');

export class BlobStore {
  constructor(readonly root: string) {}

  path(digest: string): string {
    return join(this.root, 'sha256', hexOf(digest));
  }

  has(digest: string): boolean {
    return existsSync(this.path(digest));
  }

  /** Streams one blob in, checking that its content has the digest it is filed under. */
  async add(digest: string, data: NodeJS.ReadableStream, source = 'docker save'): Promise<void> {
    const target = this.path(digest);
    if (existsSync(target)) {
      data.resume();
      await new Promise((r) => data.on('end', r));
      return;
    }
    mkdirSync(dirname(target), { recursive: true });
    const tmp = `${target}.tmp-${process.pid}`;
    const hash = createHash('sha256');
    const hashing = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    try {
      await pipeline(data, hashing, createWriteStream(tmp));
      const got = `sha256:${hash.digest('hex')}`;
      if (got !== `sha256:${hexOf(digest)}`) throw new BuildError(`blob ${digest} from ${source} has digest ${got}`, source === 'docker save' ? 'the engine returned a damaged archive; retry' : 'the archive is damaged; export the image again');
      renameSync(tmp, target);
    } finally {
      rmSync(tmp, { force: true });
    }
  }

  read(digest: string): Buffer {
    return readFileSync(this.path(digest));
  }

  /** The manifest digest image `id` was exported under, if it was. */
  manifestOf(id: string): string | undefined {
    return readIndex(this, id)?.manifest;
  }
}

/**
 * The images `refs` as registry content. Known image IDs are answered from the store's
 * index; the rest come from one `docker save`, streamed into the store.
 */
export async function exportImages(docker: DockerEngine, refs: string[], store: BlobStore, platform: Platform = hostPlatform()): Promise<OciImage[]> {
  const out = new Map<string, OciImage>();
  const missing: { ref: string; id: string }[] = [];
  for (const ref of refs) {
    const info = await docker.imageInfo(ref);
    if (!info) throw new BuildError(`image ${ref} is not in the Docker engine`, 'build it first (k8s-img build), or pull/load it into this engine');
    const cached = readIndex(store, info.id);
    if (cached && [cached.manifest, ...cached.blobs].every((d) => store.has(d))) out.set(ref, { ...cached, ref, id: info.id });
    else missing.push({ ref, id: info.id });
  }
  if (missing.length > 0) {
    const index = await saveIntoStore(docker, missing.map((m) => m.ref), store);
    for (const { ref, id } of missing) {
      const name = parseImageName(ref);
      const desc = name && index.find((d) => d.annotations?.['io.containerd.image.name'] === normalizedName(name));
      if (!desc) throw new BuildError(`docker save did not return ${ref}`, 'check the image name (k8s-img needs a tag, not a digest)');
      // An engine with the containerd image store saves an index: take the nodes' platform.
      const r = resolveImage(desc, (d) => (store.has(d) ? store.read(d) : undefined), platform, ref);
      const image: OciImage = { ref, id, manifest: r.manifest.digest, mediaType: r.manifest.mediaType, blobs: [r.config.digest, ...r.layers.map((l) => l.digest)] };
      writeIndex(store, image);
      out.set(ref, image);
    }
  }
  return refs.map((r) => out.get(r)!);
}

async function saveIntoStore(docker: DockerEngine, refs: string[], store: BlobStore): Promise<Descriptor[]> {
  const extract = tar.extract();
  let index: Descriptor[] = [];
  extract.on('entry', (header, stream, next) => {
    const blob = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(header.name);
    if (blob && header.type === 'file') {
      store.add(`sha256:${blob[1]}`, stream as unknown as NodeJS.ReadableStream).then(() => next(), next);
    } else if (header.name === 'index.json') {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        index = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { manifests: Descriptor[] }).manifests;
        next();
      });
    } else {
      stream.on('end', () => next());
      stream.resume();
    }
  });
  await pipeline(await docker.saveStream(refs), extract);
  return index;
}

function indexPath(store: BlobStore, id: string): string {
  return join(store.root, 'images', `${hexOf(id)}.json`);
}

function readIndex(store: BlobStore, id: string): Omit<OciImage, 'ref' | 'id'> | undefined {
  const p = indexPath(store, id);
  if (!existsSync(p)) return undefined;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as Omit<OciImage, 'ref' | 'id'>;
  } catch {
    return undefined;
  }
}

function writeIndex(store: BlobStore, image: OciImage): void {
  writeFileAtomic(indexPath(store, image.id), JSON.stringify({ manifest: image.manifest, mediaType: image.mediaType, blobs: image.blobs }));
}

/** Size on disk of the blobs an image is made of (manifest excluded). */
export function imageBytes(store: BlobStore, image: OciImage): number {
  return image.blobs.reduce((n, d) => n + statSync(store.path(d)).size, 0);
}
