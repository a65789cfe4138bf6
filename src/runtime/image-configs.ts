// The exact config JSON of images we build on (an image's ID is its sha256): kept in the
// cache when k8s-img loads an image; for any other base, read once from `docker save`.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { BuildError } from '../errors.js';
import type { DockerEngine } from './docker.js';
import { writeFileAtomic } from './files.js';
import { cacheDir } from './paths.js';

const hexOf = (id: string) => id.replace(/^sha256:/, '');
const digestOf = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

export class ImageConfigStore {
  constructor(readonly root = join(cacheDir(), 'image-configs')) {}

  put(config: string): string {
    const id = digestOf(config);
    const p = join(this.root, `${hexOf(id)}.json`);
    if (!existsSync(p)) {
      mkdirSync(this.root, { recursive: true });
      writeFileAtomic(p, config);
    }
    return id;
  }

  /** The config of image `id`: from the store, else from `docker save` of `ref` (then stored). */
  async get(docker: DockerEngine, ref: string, id: string): Promise<string> {
    const p = join(this.root, `${hexOf(id)}.json`);
    if (existsSync(p)) {
      const text = readFileSync(p, 'utf8');
      if (digestOf(text) === id) return text;
    }
    const text = await configFromSave(docker, ref, id);
    this.put(text);
    return text;
  }
}

/** Reads the config blob out of `docker save`, without keeping any layer. */
async function configFromSave(docker: DockerEngine, ref: string, id: string): Promise<string> {
  const got = await filesFromSave(docker, ref, [`blobs/sha256/${hexOf(id)}`, `${hexOf(id)}.json`]);
  const found = [...got.values()].map((b) => b.toString('utf8')).find((t) => digestOf(t) === id);
  if (!found) throw new BuildError(`docker save of ${ref} did not hold its config ${id}`, 'check the base image (images.base) and the engine');
  return found;
}

/** The members `names` of `docker save`'s archive of `ref` (others are read past, not kept). */
export async function filesFromSave(docker: DockerEngine, ref: string, names: readonly string[]): Promise<Map<string, Buffer>> {
  const want = new Set(names);
  const out = new Map<string, Buffer>();
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const keep = want.has(header.name);
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => keep && chunks.push(c as Buffer));
    stream.on('end', () => {
      if (keep) out.set(header.name, Buffer.concat(chunks));
      next();
    });
  });
  await pipeline(await docker.saveStream([ref]), extract);
  return out;
}

/**
 * The time every layer entry, config and history entry carries: SOURCE_DATE_EPOCH when
 * set (reproducible-builds.org), else 0 (1970-01-01, as ko and rules_oci write).
 */
export function sourceDateEpoch(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.SOURCE_DATE_EPOCH;
  if (v === undefined || v === '') return 0;
  if (!/^\d{1,12}$/.test(v)) throw new BuildError(`SOURCE_DATE_EPOCH=${v} is not a number of seconds`, 'unset it, or set it to a Unix time such as 1700000000');
  return Number(v);
}
