import YAML from 'yaml';
import { parseClusterConfig } from '../../config/load.js';
import { formatImages, listImages } from '../../pipeline/image-list.js';
import { defaultLocalConfig, openLocalCluster } from '../../pipeline/local.js';
import { blobStore } from '../../pipeline/save.js';
import { planCluster } from '../../plan/plan.js';
import { DockerEngine } from '../../runtime/docker.js';
import { readExtraImages } from '../../runtime/extra-images.js';
import { ClusterError } from '../../errors.js';
import type { CliIO } from '../io.js';
import { printWarnings } from '../output.js';

export async function run(args: { config?: string; json: boolean }, io: CliIO): Promise<void> {
  let cluster;
  try {
    cluster = openLocalCluster(args.config);
  } catch (e) {
    // No local cluster yet: the images `k8s-img up` would use.
    if (args.config || !(e instanceof ClusterError)) throw e;
  }
  const config = cluster?.config ?? parseClusterConfig(YAML.stringify(defaultLocalConfig([])), 'the default local cluster').config;
  printWarnings(cluster?.warnings ?? [], io.stderr);
  const docker = new DockerEngine();
  await docker.ping();
  const list = await listImages(planCluster(config), config.images.prefix, docker, cluster ? readExtraImages(cluster.state) : [], blobStore());
  io.stdout.write(args.json ? `${JSON.stringify(list, null, 2)}\n` : formatImages(list));
}
