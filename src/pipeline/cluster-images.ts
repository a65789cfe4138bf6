// Adds images to a cluster's registry: recorded in the state folder (so every later
// `up`, `save` or deploy writes them into the registry storage of the control-plane
// bundles), and — when the nodes are reachable through the cluster's provider (node
// containers, or machines over SSH after `deploy`) — written into those bundles and
// synced to the control-plane nodes, where only blobs they lack travel (blobs are
// named by digest). The registry serves them at once; every node pulls them from
// there, under any pull policy.
import { join } from 'node:path';
import { ClusterError } from '../errors.js';
import { parseImageName } from '../plan/image-name.js';
import { planCluster } from '../plan/plan.js';
import { readRecord } from '../runtime/deploy-record.js';
import type { DockerEngine } from '../runtime/docker.js';
import { mergeExtraImages, readExtraImages, writeExtraImages } from '../runtime/extra-images.js';
import { exportImages, type OciImage } from '../runtime/oci-export.js';
import { servedDigest } from '../runtime/registry-client.js';
import { bundlesDir, providerFor, type ClusterHandle, type SshOptions } from './cluster.js';
import { syncNodeBundle } from './node-ops.js';
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
 * received, or undefined when no node is reachable (machines set up by hand: recorded
 * for the next `save`).
 */
export async function publishImages(cluster: ClusterHandle, images: OciImage[], docker: DockerEngine, reporter: Reporter, ssh: SshOptions = {}): Promise<RegistrySend[] | undefined> {
  const plan = planCluster(cluster.config);
  const extra = mergeExtraImages(readExtraImages(cluster.state), images);
  // Computed before anything is recorded: two images at one place are refused here.
  const tree = await registryFiles(plan, docker, reporter, extra);
  writeExtraImages(cluster.state, extra);
  const provider = await providerFor(cluster, readRecord(cluster.state), docker, ssh);
  if (!provider) return undefined;
  try {
    const bundles = bundlesDir(cluster.state);
    await saveRegistryStorage(plan, docker, bundles, reporter, extra, tree);
    const sent = await reporter.step(`Sending them to the registry on ${plan.registry.nodes.join(', ')}`, async (update) => {
      const out: RegistrySend[] = [];
      for (const node of plan.registry.nodes) {
        const r = await syncNodeBundle(await provider.connect(node), join(bundles, node));
        update(`${node}: ${r.sent} files, ${(r.bytes / 1e6).toFixed(1)} MB`);
        out.push({ node, files: r.sent, bytes: r.bytes });
      }
      return out;
    });
    await checkServed(cluster, images, reporter);
    return sent;
  } finally {
    provider.close();
  }
}

/** Every registry copy serves each image's tag with the manifest digest we wrote. */
async function checkServed(cluster: ClusterHandle, images: OciImage[], reporter: Reporter): Promise<void> {
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

/** Images from the host's engine into a running cluster's registry (the conformance run's test images). */
export async function addClusterImages(cluster: ClusterHandle, refs: string[], docker: DockerEngine, reporter: Reporter, ssh: SshOptions = {}): Promise<OciImage[]> {
  const plan = planCluster(cluster.config);
  const provider = await providerFor(cluster, readRecord(cluster.state), docker, ssh);
  if (!provider) throw new ClusterError(`cluster ${plan.cluster} runs on no node k8s-img can reach`, 'start it with `k8s-img up` or `k8s-img deploy`');
  provider.close();
  const images = await reporter.step(`Exporting ${refs.length} images from the engine`, () => exportImages(docker, refs, blobStore()));
  await publishImages(cluster, images, docker, reporter, ssh);
  return images;
}
