// Adds images to a cluster's registry: recorded in the state folder (so every later
// `up`, `save` or deploy writes them into the registry storage of the control-plane
// bundles), and — when the nodes are reachable — written into those bundles and synced
// to the control-plane nodes, where only blobs they lack travel (blobs are named by
// digest). The registry serves them at once; every node pulls them from there, under
// any pull policy.
import { join } from 'node:path';
import { ClusterError } from '../errors.js';
import { parseImageName } from '../plan/image-name.js';
import { planCluster } from '../plan/plan.js';
import type { DockerEngine } from '../runtime/docker.js';
import { mergeExtraImages, readExtraImages, writeExtraImages } from '../runtime/extra-images.js';
import { syncBundle } from '../runtime/bundle-sync.js';
import { exportImages, type OciImage } from '../runtime/oci-export.js';
import { servedDigest } from '../runtime/registry-client.js';
import { bundlesDir, type LocalCluster } from './local.js';
import { nodeAccess, requireNodeAccess } from './node-access.js';
import type { Reporter } from './progress.js';
import { blobStore, registryFiles, saveRegistryStorage } from './save.js';

/** What reached one registry copy. */
export interface RegistrySend {
  node: string;
  /** Files of the bundle sent (blobs and the registry's small link files). */
  files: number;
  bytes: number;
}

/**
 * Publishes `images` (their blobs in the blob store). Returns what each control plane
 * received, or undefined when no node is reachable (machines: recorded for the next
 * `save`/deploy).
 */
export async function publishImages(cluster: LocalCluster, images: OciImage[], docker: DockerEngine, reporter: Reporter): Promise<RegistrySend[] | undefined> {
  const plan = planCluster(cluster.config);
  const extra = mergeExtraImages(readExtraImages(cluster.state), images);
  // Computed before anything is recorded: two images at one place are refused here.
  const tree = await registryFiles(plan, docker, reporter, extra);
  writeExtraImages(cluster.state, extra);
  const nodes = await nodeAccess(docker, plan);
  if (!nodes) return undefined;
  const bundles = bundlesDir(cluster.state);
  await saveRegistryStorage(plan, docker, bundles, reporter, extra, tree);
  const sent = await reporter.step(`Sending them to the registry on ${plan.registry.nodes.join(', ')}`, async (update) =>
    Promise.all(
      plan.registry.nodes.map(async (node) => {
        const access = nodes.get(node)!;
        const r = await syncBundle(access, join(bundles, node), access.bundleDir);
        update(`${node}: ${r.sent} files, ${(r.bytes / 1e6).toFixed(1)} MB`);
        return { node, files: r.sent, bytes: r.bytes };
      }),
    ),
  );
  await checkServed(cluster, images, reporter);
  return sent;
}

/** Every registry copy serves each image's tag with the manifest digest we wrote. */
async function checkServed(cluster: LocalCluster, images: OciImage[], reporter: Reporter): Promise<void> {
  const plan = planCluster(cluster.config);
  const ca = plan.mode === 'secure' ? cluster.state.read('ca.crt') : undefined;
  await reporter.step(`Checking that ${plan.registry.endpoints.length} registry copies serve them`, async () => {
    for (const endpoint of plan.registry.endpoints) {
      for (const image of images) {
        const name = parseImageName(image.ref)!;
        const got = await servedDigest(endpoint, name.repository, name.tag, ca).catch((e: Error) => {
          throw new ClusterError(`the registry at ${endpoint} did not answer for ${image.ref}: ${e.message}`, 'is it running? `k8s-img status` shows the registry service of each control plane', { cause: e });
        });
        if (got !== image.manifest) {
          throw new ClusterError(`the registry at ${endpoint} serves ${got ?? 'nothing'} for ${image.ref}, not ${image.manifest}`, 'run the load again; `k8s-img status` shows the registry service of each control plane');
        }
      }
    }
  });
}

/** Images from the host's engine into a running local cluster's registry (the conformance run's test images). */
export async function addClusterImages(cluster: LocalCluster, refs: string[], docker: DockerEngine, reporter: Reporter): Promise<OciImage[]> {
  await requireNodeAccess(docker, planCluster(cluster.config), 'conformance');
  const images = await reporter.step(`Exporting ${refs.length} images from the engine`, () => exportImages(docker, refs, blobStore()));
  await publishImages(cluster, images, docker, reporter);
  return images;
}
