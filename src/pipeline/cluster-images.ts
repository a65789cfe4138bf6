// Adds images to a running local cluster: exported from the host's engine into the
// blob store, recorded in the state folder, written into the registry storage of the
// control-plane bundles and synced to those nodes (only new blobs travel). The registry
// serves them at once; every node pulls them from there, under any pull policy.
import { join } from 'node:path';
import { planCluster } from '../plan/plan.js';
import type { DockerEngine } from '../runtime/docker.js';
import { addExtraImages } from '../runtime/extra-images.js';
import { exportImages, type OciImage } from '../runtime/oci-export.js';
import { syncBundle } from '../runtime/bundle-sync.js';
import { NODE_BUNDLE, bundlesDir, containerTarget, names, type LocalCluster } from './local.js';
import type { Reporter } from './progress.js';
import { blobStore, saveRegistryStorage } from './save.js';

export async function addClusterImages(cluster: LocalCluster, refs: string[], docker: DockerEngine, reporter: Reporter): Promise<OciImage[]> {
  const plan = planCluster(cluster.config);
  const images = await reporter.step(`Exporting ${refs.length} images from the engine`, () => exportImages(docker, refs, blobStore()));
  const extra = addExtraImages(cluster.state, images);
  const bundles = bundlesDir(cluster.state);
  await saveRegistryStorage(plan, docker, bundles, reporter, extra);
  await reporter.step(`Copying them to the registry on ${plan.registry.nodes.join(', ')}`, async (update) => {
    for (const node of plan.registry.nodes) {
      const r = await syncBundle(containerTarget(docker, names.node(plan.cluster, node)), join(bundles, node), NODE_BUNDLE);
      update(`${node}: ${r.sent} files, ${(r.bytes / 1e6).toFixed(1)} MB`);
    }
  });
  return images;
}
