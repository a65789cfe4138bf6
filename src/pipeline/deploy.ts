// deploy: real machines over SSH. The converge pipeline over SshProvider: preflight on
// every host first, then per node (in parallel) the changed bundle files, the image
// archive when the node lacks its images, `docker compose up -d` and the health wait.
import { readRecord } from '../runtime/deploy-record.js';
import { DockerEngine } from '../runtime/docker.js';
import { openCluster, sshProvider, type ClusterHandle, type SshOptions } from './cluster.js';
import { converge, type ConvergeResult } from './converge.js';
import type { Reporter } from './progress.js';

export async function deploy(configPath: string, ssh: SshOptions, reporter: Reporter, docker = new DockerEngine()): Promise<ConvergeResult & { cluster: ClusterHandle }> {
  const cluster = openCluster(configPath);
  const provider = sshProvider(cluster, readRecord(cluster.state), { ...ssh, onAccepted: ssh.onAccepted ?? ((m) => reporter.info(m)) });
  try {
    return { ...(await converge(cluster, provider, docker, reporter, `k8s-img deploy -c ${configPath}`)), cluster };
  } finally {
    provider.close();
  }
}
