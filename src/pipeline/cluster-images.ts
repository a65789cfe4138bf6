// Adds images to a running cluster: exported from the host's engine into the blob
// store, recorded in the state folder, written into the registry storage of the
// control-plane bundles and synced to those nodes (only new blobs travel) through the
// cluster's provider (node containers, or machines over SSH). The registry serves them
// at once; every node pulls them from there, under any pull policy.
import { join } from 'node:path';
import { ClusterError } from '../errors.js';
import { planCluster } from '../plan/plan.js';
import { readRecord } from '../runtime/deploy-record.js';
import type { DockerEngine } from '../runtime/docker.js';
import { addExtraImages } from '../runtime/extra-images.js';
import { exportImages, type OciImage } from '../runtime/oci-export.js';
import { bundlesDir, providerFor, type ClusterHandle, type SshOptions } from './cluster.js';
import { syncNodeBundle } from './node-ops.js';
import type { Reporter } from './progress.js';
import { blobStore, saveRegistryStorage } from './save.js';

export async function addClusterImages(cluster: ClusterHandle, refs: string[], docker: DockerEngine, reporter: Reporter, ssh: SshOptions = {}): Promise<OciImage[]> {
  const plan = planCluster(cluster.config);
  const provider = await providerFor(cluster, readRecord(cluster.state), docker, ssh);
  if (!provider) throw new ClusterError(`cluster ${plan.cluster} runs on no node k8s-img can reach`, 'start it with `k8s-img up` or `k8s-img deploy`');
  try {
    const images = await reporter.step(`Exporting ${refs.length} images from the engine`, () => exportImages(docker, refs, blobStore()));
    const extra = addExtraImages(cluster.state, images);
    const bundles = bundlesDir(cluster.state);
    await saveRegistryStorage(plan, docker, bundles, reporter, extra);
    await reporter.step(`Copying them to the registry on ${plan.registry.nodes.join(', ')}`, async (update) => {
      for (const node of plan.registry.nodes) {
        const r = await syncNodeBundle(await provider.connect(node), join(bundles, node));
        update(`${node}: ${r.sent} files, ${(r.bytes / 1e6).toFixed(1)} MB`);
      }
    });
    return images;
  } finally {
    provider.close();
  }
}
