// Images added to a cluster's registry besides the ones k8s-img builds for it
// (`k8s-img load`, the conformance suite's test images). Recorded in the state folder
// with the digests they were exported with, so regenerating a bundle keeps them.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './files.js';
import type { OciImage } from './oci-export.js';
import type { StateDir } from './state.js';

const FILE = 'images.json';

export function readExtraImages(state: StateDir): OciImage[] {
  const p = join(state.dir, FILE);
  if (!existsSync(p)) return [];
  return (JSON.parse(readFileSync(p, 'utf8')) as { images: OciImage[] }).images;
}

/** Adds (or replaces, by reference) images; returns the whole list. */
export function addExtraImages(state: StateDir, images: OciImage[]): OciImage[] {
  const byRef = new Map(readExtraImages(state).map((i) => [i.ref, i]));
  for (const i of images) byRef.set(i.ref, i);
  const all = [...byRef.values()].sort((a, b) => (a.ref < b.ref ? -1 : 1));
  writeFileAtomic(join(state.dir, FILE), `${JSON.stringify({ images: all }, null, 2)}\n`, 0o600);
  return all;
}
