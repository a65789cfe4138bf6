// load: the user's images into the cluster's registry — from the host's engine, or from
// an archive file (OCI layout or docker save). One mechanism for every node: containerd
// on every node pulls every image name from the registry on the control planes, so an
// image there runs anywhere in the cluster, under any pull policy.
import type { ClusterPlan } from '../plan/types.js';
import { planCluster } from '../plan/plan.js';
import type { DockerEngine } from '../runtime/docker.js';
import { readImageArchive } from '../runtime/image-archive.js';
import { exportImages, imageBytes, type OciImage } from '../runtime/oci-export.js';
import { hostPlatform, platformText } from '../runtime/oci-image.js';
import { publishImages, type RegistrySend } from './cluster-images.js';
import type { LocalCluster } from './local.js';
import type { Reporter } from './progress.js';
import { blobStore } from './save.js';

export interface LoadSource {
  /** Image names: in the host's engine, or (with `archive`) which of the archive's images to take, or the name to give its one image. */
  refs: string[];
  archive?: string;
}

export interface LoadReport {
  plan: ClusterPlan;
  images: { ref: string; manifest: string; platform: string; bytes: number }[];
  /** Per control plane, what its registry copy received; undefined: no node reachable, recorded for the next save/deploy. */
  registry: RegistrySend[] | undefined;
}

export async function loadImages(cluster: LocalCluster, source: LoadSource, docker: DockerEngine, reporter: Reporter): Promise<LoadReport> {
  const plan = planCluster(cluster.config);
  const store = blobStore();
  const platform = hostPlatform();
  const images: OciImage[] = source.archive
    ? await reporter.step(`Reading ${source.archive} (${platformText(platform)})`, () => readImageArchive(source.archive!, store, platform, source.refs))
    : await reporter.step(`Exporting ${source.refs.length} image(s) from the engine`, () => exportImages(docker, source.refs, store, platform));
  const registry = await publishImages(cluster, images, docker, reporter);
  return {
    plan,
    images: images.map((i) => ({ ref: i.ref, manifest: i.manifest, platform: platformText('platform' in i ? (i.platform as typeof platform) : platform), bytes: imageBytes(store, i) })),
    registry,
  };
}
