// Where local mode's nodes keep /var, and how they start with their images in place.
//
// One volume (`k8s-img-nodes`) holds every local node's /var (clusters/<cluster>/<node>,
// mounted as a volume subpath) next to image stores (store/<key>): a node's /var with
// every image of the cluster loaded into its Docker engine. A new node's /var is made
// from a store — image layers hard-linked, the rest copied — instead of `docker load`ing
// its archive: three loads at once were the longest part of `up` (16–20 s of ~40 s);
// linking takes about a second and writes no image data again (three nodes share one
// copy of each layer on disk). Layer files are never written in place (containers write
// to their own upper layer), so sharing them is safe; everything else is the node's own.
// A store outlives `down`, like the images on this engine: it is a cache of what was
// built (kind's node image with its images preloaded, made here instead of pulled).
import { createHash, randomBytes } from 'node:crypto';
import { HostError } from '../errors.js';
import { LABEL, names } from '../plan/names.js';
import type { DockerEngine } from '../runtime/docker.js';

const STORAGE_LABELS = { [LABEL.managed]: 'true', [LABEL.component]: 'node-storage' };
/** Stores kept, most recently used first: one per image set in use (two Kubernetes versions during an upgrade, another prefix). */
const KEEP = 3;
/** Where the one-shot containers below mount the node storage volume. */
const ROOT = '/nodes';

/** What a store holds: the node image that made it and the images in its engine (IDs, any order). */
export function storeKey(nodeImageId: string, imageIds: string[]): string {
  return createHash('sha256').update(`${nodeImageId}\n${[...new Set(imageIds)].sort().join('\n')}`).digest('hex').slice(0, 16);
}

/** The host settings every container made from the node image needs (its entrypoint runs dockerd). */
export function nodeHostConfig(network: string, mounts: unknown[] = []) {
  return {
    Privileged: true,
    // Each kubelet gets a cgroup tree of its own (several kubelets sharing one clean up each other's pods).
    CgroupnsMode: 'private',
    Tmpfs: { '/run': 'rw,nosuid,nodev,exec,size=512m', '/tmp': 'rw,nosuid,nodev,exec,size=512m' },
    Binds: ['/lib/modules:/lib/modules:ro'],
    Mounts: mounts,
    NetworkMode: network,
    SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined'],
  };
}

/** The mount of a node's /var: its folder of the node storage volume. */
export function nodeVarMount(cluster: string, node: string) {
  return { Type: 'volume', Source: names.nodeStorage, Target: '/var', VolumeOptions: { Subpath: names.nodeDir(cluster, node) } };
}

const wholeStorage = { Type: 'volume', Source: names.nodeStorage, Target: ROOT };

export interface StoreRequest {
  nodeImage: string;
  /** The nodes' image archives (`save`), each with what it holds (images.txt: `ref id` lines). */
  archives: { file: string; images: { ref: string; id: string }[] }[];
}

/**
 * Makes each node folder (cluster/node paths of the volume) that does not exist yet from
 * the store of these images, making the store first when there is none (~10 s: one
 * `docker load` of them all). Folders that exist are left as they are.
 */
export async function stockNodes(docker: DockerEngine, req: StoreRequest, dirs: string[], update: (d: string) => void): Promise<void> {
  const node = await docker.imageInfo(req.nodeImage);
  if (!node) throw new HostError(`the node image ${req.nodeImage} is missing on this engine`, 'run `k8s-img up` again: it builds it');
  const key = storeKey(node.id, req.archives.flatMap((a) => a.images.map((i) => i.id)));
  await docker.createVolume(names.nodeStorage, STORAGE_LABELS);
  update(`linking the image store into ${dirs.length} node folder${dirs.length === 1 ? '' : 's'}`);
  if (await linkFromStore(docker, req.nodeImage, key, dirs)) return;
  update('making the image store (once per set of images)');
  await makeStore(docker, req, key);
  update(`linking the image store into ${dirs.length} node folder${dirs.length === 1 ? '' : 's'}`);
  if (!(await linkFromStore(docker, req.nodeImage, key, dirs))) throw new HostError(`the image store ${key} vanished right after it was made`, 'run again');
}

/** false when there is no store with this key yet. */
async function linkFromStore(docker: DockerEngine, nodeImage: string, key: string, dirs: string[]): Promise<boolean> {
  const script = `
    set -e
    s=${ROOT}/store/${key}
    [ -d "$s" ] || exit 3
    touch "$s"  # the newest store is used last: pruning keeps it
    for rel in "$@"; do
      d=${ROOT}/$rel
      if [ -d "$d" ] && [ -n "$(ls -A "$d")" ]; then continue; fi
      mkdir -p "$d"
      # Everything but the layers' files is copied (the node's own from now on) ...
      tar -C "$s" --exclude='./lib/docker/overlay2/*/diff' -cf - . | tar -C "$d" -xpf -
      # ... and the layers' files linked: read-only to the node's engine.
      for l in "$s"/lib/docker/overlay2/*/diff; do
        [ -d "$l" ] || continue
        id=\${l%/diff}; id=\${id##*/}
        cp -al "$l" "$d/lib/docker/overlay2/$id/diff"
      done
    done`;
  const r = await oneShot(docker, nodeImage, script, dirs);
  if (r.code === 3) return false;
  if (r.code !== 0) throw new HostError(`making the node folders from the image store failed: ${lastLines(r.output)}`, `is the disk full? (df -h; docker volume inspect ${names.nodeStorage})`);
  return true;
}

async function makeStore(docker: DockerEngine, req: StoreRequest, key: string): Promise<void> {
  // A folder of its own: two `up`s at once each make one, the first to finish is kept.
  const tmp = `.tmp-${key}-${randomBytes(3).toString('hex')}`;
  const builder = `k8s-img-store-build${tmp}`;
  const labels = { ...STORAGE_LABELS, [LABEL.storeKey]: key };
  // The node image's own /var first, then its engine started on it, as a node's is.
  const start = `set -e; t=${ROOT}/store/${tmp}; mkdir -p "$t"; cp -a /var/. "$t"/; touch "$t"; mount --bind "$t" /var; exec /usr/local/bin/k8s-img-node`;
  try {
    await docker.runContainer({ name: builder, Image: req.nodeImage, Labels: labels, Entrypoint: ['sh', '-c', start], HostConfig: nodeHostConfig('none', [wholeStorage]) } as never);
    await waitEngine(docker, builder);
    // Every node's archive that adds an image (layers already there are not written again).
    const loaded = new Set<string>();
    for (const a of [...req.archives].sort((x, y) => y.images.length - x.images.length)) {
      if (a.images.every((i) => loaded.has(i.id))) continue;
      const load = await docker.exec(builder, ['docker', 'load', '-q'], { stdinFile: a.file });
      if (load.code !== 0) throw new HostError(`loading ${a.file} into the image store failed: ${lastLines(load.stderr || load.stdout)}`, 'is the disk full? (df -h)');
      for (const i of a.images) loaded.add(i.id);
    }
    // The engine stops cleanly (the entrypoint waits for dockerd) before its files are used.
    await docker.stopAndRemove(builder, 60);
    // What is this engine's own and not the nodes' goes; the rename makes the store whole at once.
    const seal = `
      set -e
      cd ${ROOT}/store
      rm -rf ${tmp}/lib/docker/network ${tmp}/lib/docker/engine-id ${tmp}/log/dockerd.log
      if [ -d ${key} ]; then rm -rf ${tmp}; else mv ${tmp} ${key}; fi
      touch ${key}
      ls -t | tail -n +${KEEP + 1} | xargs -r rm -rf
      find . -maxdepth 1 -name '.tmp-*' -mmin +120 -exec rm -rf {} +`;
    const r = await oneShot(docker, req.nodeImage, seal, []);
    if (r.code !== 0) throw new HostError(`sealing the image store failed: ${lastLines(r.output)}`, 'is the disk full? (df -h)');
  } catch (e) {
    await docker.stopAndRemove(builder, 0).catch(() => undefined);
    await oneShot(docker, req.nodeImage, `rm -rf ${ROOT}/store/${tmp}`, []).catch(() => undefined);
    throw e;
  }
}

/**
 * Removes node folders (a node that left, a cluster taken down), through a container of
 * any node image here (the folders exist only if one made them).
 */
export async function removeNodeDirs(docker: DockerEngine, dirs: string[]): Promise<void> {
  if (dirs.length === 0 || !(await docker.volumeExists(names.nodeStorage))) return;
  const image = (await docker.listImages({ [LABEL.managed]: 'true', [LABEL.component]: 'node' })).find((i) => (i.RepoTags ?? []).length > 0)?.RepoTags?.[0];
  if (!image) {
    throw new HostError(`cannot remove ${dirs.join(', ')} from the volume ${names.nodeStorage}: no node image on this engine`, `run \`k8s-img build\` and again, or by hand: docker run --rm -v ${names.nodeStorage}:/nodes IMAGE rm -rf ${dirs.map((d) => `/nodes/${d}`).join(' ')}`);
  }
  const r = await oneShot(docker, image, `for rel in "$@"; do rm -rf "${ROOT}/$rel"; done`, dirs);
  if (r.code !== 0) throw new HostError(`removing ${dirs.join(', ')} from the volume ${names.nodeStorage} failed: ${lastLines(r.output)}`, 'run `k8s-img down` again');
}

/** A shell script in a throwaway container of the node image with the node storage volume at /nodes. */
function oneShot(docker: DockerEngine, nodeImage: string, script: string, args: string[]) {
  return docker.runToCompletion({
    Image: nodeImage,
    Labels: { ...STORAGE_LABELS, [LABEL.component]: 'node-storage-tool' },
    Entrypoint: ['sh', '-c', script, 'k8s-img', ...args],
    // Privileged: copies keep the layers' trusted.* attributes (overlay's opaque folders).
    HostConfig: { Privileged: true, NetworkMode: 'none', Mounts: [wholeStorage] },
  } as never);
}

const lastLines = (s: string) => s.trim().split('\n').slice(-3).join(' ');

/** Waits until the Docker engine inside a node-image container answers. */
export async function waitEngine(docker: DockerEngine, container: string, timeoutMs = 60000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // Not `docker info`: it exits 0 when no engine answers.
    const r = await docker.exec(container, ['docker', 'version', '--format', '{{.Server.Version}}']).catch(() => undefined);
    if (r?.code === 0 && r.stdout.trim() !== '') return;
    if (Date.now() > deadline) throw new HostError(`the Docker engine inside ${container} did not start`, `see \`docker logs ${container}\``);
    await new Promise((res) => setTimeout(res, 500));
  }
}
