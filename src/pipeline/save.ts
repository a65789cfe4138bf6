// save: per node, one archive with exactly the images its Compose services need, and a
// checksum manifest; on control-plane nodes also the storage of the cluster's registry
// (the pods' images). With the node's bundle it is all the node needs:
//   docker load -i images.tar && docker compose up -d
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BuildError } from '../errors.js';
import type { ClusterPlan } from '../plan/types.js';
import { sha256File } from '../runtime/bincache.js';
import type { DockerEngine } from '../runtime/docker.js';
import { writeFileAtomic } from '../runtime/files.js';
import { withFsErrors } from '../runtime/fs-errors.js';
import { cacheDir } from '../runtime/paths.js';
import { REGISTRY_STORAGE, SBOM_DIR } from '../plan/components.js';
import { parseImageName } from '../plan/image-name.js';
import { registryTree, type RegistryFile } from '../render/registry-tree.js';
import { BlobStore, exportImages, type OciImage } from '../runtime/oci-export.js';
import { writeRegistryStorage } from '../runtime/registry-store.js';
import { removeTemp, trackTemp, untrackTemp } from '../runtime/temp-cleanup.js';
import { replaceTree, type TreeFile } from '../runtime/files.js';
import { SbomStore } from '../runtime/sbom-store.js';
import { SBOM_LABEL } from './assemble.js';
import type { Reporter } from './progress.js';

export interface NodeArchive {
  node: string;
  file: string;
  sha256: string;
  images: { ref: string; id: string }[];
  status: 'saved' | 'up to date';
}

/** images.txt: what the archive holds, one `ref id` per line (also how we tell it is up to date). */
function listing(images: { ref: string; id: string }[]): string {
  return images.map((i) => `${i.ref} ${i.id}\n`).join('');
}

/**
 * Saves each node's archive into `outDir/<node>/`. Archives are kept in `archiveCache`
 * by content (the exact image IDs), so another cluster or bundle folder with the same
 * images gets a hard link instead of another `docker save`.
 */
export async function saveNodeArchives(plan: ClusterPlan, docker: DockerEngine, outDir: string, reporter: Reporter, extra: OciImage[] = [], archiveCache = join(cacheDir(), 'archives')): Promise<NodeArchive[]> {
  const out: NodeArchive[] = [];
  await saveRegistryStorage(plan, docker, outDir, reporter, extra);
  for (const node of plan.nodes) {
    const registry = plan.registry.nodes.includes(node.name) ? [...plan.registry.images.map((id) => plan.images[id]), ...extra.map((i) => i.ref)] : [];
    await writeSboms(docker, join(outDir, node.name), [...node.images.map((id) => plan.images[id]), ...registry], reporter);
    const refs = node.images.map((id) => plan.images[id]);
    const images: { ref: string; id: string }[] = [];
    const missing: string[] = [];
    for (const ref of refs) {
      const info = await docker.imageInfo(ref);
      if (info) images.push({ ref, id: info.id });
      else missing.push(ref);
    }
    if (missing.length > 0) throw new BuildError(`images not built: ${missing.join(', ')}`, 'run `k8s-img build -c FILE` first');

    const dir = join(outDir, node.name);
    const file = join(dir, 'images.tar');
    const listFile = join(dir, 'images.txt');
    const sumFile = join(dir, 'images.sha256');
    if (existsSync(file) && existsSync(sumFile) && existsSync(listFile) && readFileSync(listFile, 'utf8') === listing(images)) {
      const sha256 = readFileSync(sumFile, 'utf8').split(/\s+/)[0]!;
      out.push({ node: node.name, file, sha256, images, status: 'up to date' });
      reporter.info(`= ${file} up to date`);
      continue;
    }
    withFsErrors(`cannot create ${dir}`, () => mkdirSync(dir, { recursive: true }));
    const key = createHash('sha256').update(listing(images)).digest('hex').slice(0, 20);
    const cached = join(archiveCache, `${key}.tar`);
    let sha256: string;
    if (existsSync(cached) && existsSync(`${cached}.sha256`)) {
      sha256 = readFileSync(`${cached}.sha256`, 'utf8').trim();
    } else {
      withFsErrors(`cannot create ${archiveCache}`, () => mkdirSync(archiveCache, { recursive: true }));
      const tmp = join(archiveCache, `.${key}.tar.tmp-${process.pid}`);
      trackTemp(tmp);
      sha256 = await reporter.step(`Saving ${images.length} images for ${node.name}`, async () => {
        try {
          await docker.save(refs, tmp);
          return await sha256File(tmp);
        } catch (e) {
          removeTemp(tmp);
          throw e;
        }
      });
      withFsErrors(`cannot store ${cached}`, () => renameSync(tmp, cached));
      untrackTemp(tmp);
      writeFileAtomic(`${cached}.sha256`, `${sha256}\n`);
      pruneArchives(archiveCache);
    }
    withFsErrors(`cannot write ${file}`, () => {
      rmSync(file, { force: true });
      try {
        linkSync(cached, file);
      } catch {
        copyFileSync(cached, file); // another file system
      }
    });
    writeFileAtomic(sumFile, `${sha256}  images.tar\n`);
    writeFileAtomic(listFile, listing(images));
    out.push({ node: node.name, file, sha256, images, status: 'saved' });
  }
  return out;
}

/** `<node>/sbom/`: the SPDX document of every image the node gets (from the cache, by each image's label). */
async function writeSboms(docker: DockerEngine, dir: string, refs: string[], reporter: Reporter): Promise<void> {
  const store = new SbomStore();
  const files: TreeFile[] = [];
  for (const ref of refs) {
    const info = await docker.imageInfo(ref);
    const digest = info?.labels[SBOM_LABEL];
    if (!info) continue; // reported by the archive's own check
    if (!digest) {
      reporter.warn(`${ref} has no SBOM (not built by this k8s-img): none is written for it`);
      continue;
    }
    if (!store.has(digest)) throw new BuildError(`the SBOM of ${ref} (${digest}) is not in ${store.root}`, 'run `k8s-img build` (it writes the SBOM again, with the same digest)');
    files.push({ path: sbomFileName(ref), content: readFileSync(store.path(digest)), mode: 0o644 });
  }
  withFsErrors(`cannot create ${dir}`, () => mkdirSync(dir, { recursive: true }));
  replaceTree(join(dir, SBOM_DIR), files);
}

/** `k8s-img/kube-apiserver:v1.37.2` → `k8s-img_kube-apiserver_v1.37.2.spdx.json`. */
export function sbomFileName(ref: string): string {
  return `${ref.replace(/[/:@]/g, '_')}.spdx.json`;
}

/** Keeps the archive cache to its newest few entries. */
function pruneArchives(dir: string, keep = 8): void {
  const tars = readdirSync(dir)
    .filter((f) => f.endsWith('.tar'))
    .map((f) => ({ f, t: statSync(join(dir, f)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  for (const { f } of tars.slice(keep)) {
    rmSync(join(dir, f), { force: true });
    rmSync(join(dir, `${f}.sha256`), { force: true });
  }
}

/** Where exported image blobs are kept, shared by every cluster. */
export function blobStore(): BlobStore {
  return new BlobStore(join(cacheDir(), 'blobs'));
}

/**
 * The files of the cluster registry's storage: the pods' images (exported from the
 * engine) and `extra` images (added with `k8s-img load` or by the conformance run), whose
 * blobs the store still holds. Throws when two images would share one place.
 */
export async function registryFiles(plan: ClusterPlan, docker: DockerEngine, reporter: Reporter, extra: OciImage[] = []): Promise<RegistryFile[]> {
  const refs = plan.registry.images.map((id) => plan.images[id]);
  const store = blobStore();
  const built = await reporter.step(`Exporting ${refs.length} pod images for the cluster's registry`, () => exportImages(docker, refs, store));
  const lost = extra.filter((i) => ![i.manifest, ...i.blobs].every((d) => store.has(d)));
  if (lost.length > 0) {
    throw new BuildError(`the blobs of ${lost.map((i) => i.ref).join(', ')} are no longer in ${store.root}`, 'load them again (k8s-img load IMAGE)');
  }
  return registryTree(
    [...built, ...extra].map((i) => {
      const name = parseImageName(i.ref)!;
      return { ref: i.ref, repository: name.repository, tag: name.tag, manifest: i.manifest, blobs: i.blobs };
    }),
  );
}

/** `DIR/<node>/registry-storage` on every node that serves the cluster's registry. */
export async function saveRegistryStorage(plan: ClusterPlan, docker: DockerEngine, outDir: string, reporter: Reporter, extra: OciImage[] = [], tree?: RegistryFile[]): Promise<void> {
  if (plan.registry.nodes.length === 0) return;
  const files = tree ?? (await registryFiles(plan, docker, reporter, extra));
  for (const node of plan.registry.nodes) {
    mkdirSync(join(outDir, node), { recursive: true });
    writeRegistryStorage(join(outDir, node, REGISTRY_STORAGE), files, blobStore());
  }
}
