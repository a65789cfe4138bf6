// Images added to a cluster's registry besides the ones k8s-img builds for it
// (`k8s-img load`, the conformance suite's test images). Recorded in the state folder
// with the digests they were exported with, so regenerating a bundle keeps them.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { normalizedName, parseImageName } from '../plan/image-name.js';
import { writeFileAtomic } from './files.js';
import type { OciImage } from './oci-export.js';
import type { StateDir } from './state.js';

const FILE = 'images.json';

export function readExtraImages(state: StateDir): OciImage[] {
  const p = join(state.dir, FILE);
  if (!existsSync(p)) return [];
  return (JSON.parse(readFileSync(p, 'utf8')) as { images: OciImage[] }).images;
}

/** The record with `images` added; an image replaces one of the same name (`app:1` and `docker.io/library/app:1` are one). */
export function mergeExtraImages(current: OciImage[], images: OciImage[]): OciImage[] {
  const key = (ref: string) => {
    const n = parseImageName(ref);
    return n ? normalizedName(n) : ref;
  };
  const byName = new Map(current.map((i) => [key(i.ref), i]));
  for (const i of images) byName.set(key(i.ref), i);
  return [...byName.values()].sort((a, b) => (a.ref < b.ref ? -1 : 1));
}

export function writeExtraImages(state: StateDir, all: OciImage[]): void {
  const keep = all.map(({ ref, id, manifest, mediaType, blobs }) => ({ ref, id, manifest, mediaType, blobs }));
  writeFileAtomic(join(state.dir, FILE), `${JSON.stringify({ images: keep }, null, 2)}\n`, 0o600);
}
