// The storage of the cluster's registry (distribution's filesystem driver layout,
// registry/storage/paths.go), computed from the images it must serve. Pure: blobs are
// named by digest and filled in by the writer. The registry runs read-only; this tree
// is the only way images get into it.
import { ConfigError } from '../errors.js';

export interface RegistryImage {
  ref: string; // as the user named it, for messages
  repository: string;
  tag: string;
  manifest: string; // sha256:...
  blobs: string[]; // config and layers
}

/** A file of the tree: small link files have content; blob data comes from the blob store. */
export type RegistryFile = { path: string; content: string } | { path: string; blob: string };

const V2 = 'docker/registry/v2';
const hex = (digest: string) => digest.replace(/^sha256:/, '');
const link = (path: string, digest: string): RegistryFile => ({ path: `${path}/link`, content: digest });

export function registryTree(images: RegistryImage[]): RegistryFile[] {
  const files = new Map<string, RegistryFile>();
  const add = (f: RegistryFile) => files.set(f.path, f);
  const placed = new Map<string, RegistryImage>();
  const clashes: string[] = [];
  for (const img of images) {
    const at = `${img.repository}:${img.tag}`;
    const other = placed.get(at);
    if (other && other.manifest !== img.manifest) clashes.push(`${other.ref} and ${img.ref} are both ${at} in the cluster's registry`);
    placed.set(at, img);
    const repo = `${V2}/repositories/${img.repository}`;
    for (const d of [img.manifest, ...img.blobs]) add({ path: `${V2}/blobs/sha256/${hex(d).slice(0, 2)}/${hex(d)}/data`, blob: d });
    for (const d of img.blobs) add(link(`${repo}/_layers/sha256/${hex(d)}`, d));
    add(link(`${repo}/_manifests/revisions/sha256/${hex(img.manifest)}`, img.manifest));
    add(link(`${repo}/_manifests/tags/${img.tag}/current`, img.manifest));
    add(link(`${repo}/_manifests/tags/${img.tag}/index/sha256/${hex(img.manifest)}`, img.manifest));
  }
  if (clashes.length > 0) {
    throw new ConfigError(
      clashes.map((message) => ({ path: 'images', message, hint: 'one registry serves every registry name by path: give one of them another name or tag', severity: 'error' as const })),
      'image set',
    );
  }
  return [...files.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
}
