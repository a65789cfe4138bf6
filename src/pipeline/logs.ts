// logs: what a bug report needs from a running cluster, in one archive — per node every
// container's logs (the host agents containerd and kubelet included), `docker ps -a`,
// the compose file, the pods' log files, addresses, routes and iptables rules; and the
// API objects of the usual kinds plus events. Never Secrets (not asked for) nor keys
// (scrubbed from every file, as is every secret value the cluster's state holds).
import { join } from 'node:path';
import type { ClusterPlan } from '../plan/types.js';
import { planCluster } from '../plan/plan.js';
import type { DockerEngine } from '../runtime/docker.js';
import { KubeClient, credentialsFromKubeconfig } from '../runtime/kube.js';
import { scrubSecrets, writeLogArchive } from '../runtime/log-archive.js';
import type { NodeHost } from '../providers/types.js';
import { adminKubeconfigPath, type ClusterHandle } from './cluster.js';
import { connectNodes } from './node-access.js';
import type { Reporter } from './progress.js';

/** Commands run on every node: file name in the archive → shell command. */
const nodeCommands = (bundleDir: string): [string, string][] => [
  ['docker-ps.txt', 'docker ps -a'],
  ['docker-images.txt', 'docker images --digests'],
  ['ip-addr.txt', 'ip addr'],
  ['ip-route.txt', 'ip route'],
  ['iptables-save.txt', 'iptables-save'],
  ['compose.yaml', `cat ${bundleDir}/compose.yaml`],
  ['df.txt', 'df -h'],
];

/** Cluster-wide lists (API path → file), as `kubectl get -A -o json` gives them. Secrets and ConfigMaps are left out. */
const API_LISTS: [string, string][] = [
  ['/api/v1/nodes', 'nodes'],
  ['/api/v1/namespaces', 'namespaces'],
  ['/api/v1/pods', 'pods'],
  ['/api/v1/services', 'services'],
  ['/api/v1/endpoints', 'endpoints'],
  ['/api/v1/persistentvolumes', 'persistentvolumes'],
  ['/api/v1/persistentvolumeclaims', 'persistentvolumeclaims'],
  ['/apis/apps/v1/deployments', 'deployments'],
  ['/apis/apps/v1/daemonsets', 'daemonsets'],
  ['/apis/apps/v1/statefulsets', 'statefulsets'],
  ['/apis/apps/v1/replicasets', 'replicasets'],
  ['/apis/batch/v1/jobs', 'jobs'],
  ['/apis/networking.k8s.io/v1/networkpolicies', 'networkpolicies'],
  ['/api/v1/events', 'events'],
];

export interface LogsReport {
  plan: ClusterPlan;
  archive: string;
  files: number;
  /** Per node, the containers whose logs are in the archive. */
  containers: Map<string, string[]>;
  /** What could not be collected (the archive holds the rest). */
  problems: string[];
}

const shell = (cmd: string) => ['sh', '-c', `${cmd} 2>&1`];

async function nodeLogs(node: NodeHost, add: (name: string, text: string) => void, problems: string[]): Promise<string[]> {
  const dir = node.node;
  for (const [file, cmd] of nodeCommands(node.bundleDir)) {
    const r = await node.exec(shell(cmd));
    add(`${dir}/${file}`, r.code === 0 ? r.stdout : `# ${cmd}: exit ${r.code}\n${r.stdout}`);
  }
  const ps = await node.exec(['docker', 'ps', '-a', '--format', '{{.Names}}']);
  const containers = ps.code === 0 ? ps.stdout.split('\n').filter(Boolean).sort() : [];
  if (ps.code !== 0) problems.push(`${node.node}: docker ps failed: ${ps.stdout}${ps.stderr}`.trim());
  for (const c of containers) {
    const r = await node.exec(shell(`docker logs --timestamps ${c}`));
    add(`${dir}/containers/${c}.log`, r.stdout);
  }
  // The kubelet's pod log files, as the nodes keep them (text: read with cat, over any provider).
  const found = await node.exec(['find', '/var/log/pods', '-type', 'f', '-name', '*.log']);
  if (found.code !== 0) problems.push(`${node.node}: /var/log/pods: ${(found.stderr || found.stdout).trim()}`);
  for (const f of found.stdout.split('\n').filter(Boolean).sort()) {
    const r = await node.exec(['tail', '-c', '1000000', f]);
    add(`${dir}/pods/${f.slice('/var/log/pods/'.length)}`, r.stdout);
  }
  return containers;
}

async function apiObjects(cluster: ClusterHandle, add: (name: string, text: string) => void, problems: string[]): Promise<void> {
  const kube = new KubeClient(credentialsFromKubeconfig(adminKubeconfigPath(cluster.state)));
  try {
    for (const [path, name] of API_LISTS) {
      try {
        const list = await kube.get<{ items: { metadata?: { managedFields?: unknown } }[] }>(path);
        for (const i of list.items) delete i.metadata?.managedFields;
        add(`cluster/${name}.json`, `${JSON.stringify(list, null, 1)}\n`);
      } catch (e) {
        problems.push(`GET ${path}: ${(e as Error).message}`);
      }
    }
  } finally {
    kube.close();
  }
}

export async function collectLogs(cluster: ClusterHandle, outFile: string, docker: DockerEngine, reporter: Reporter, now = new Date()): Promise<LogsReport> {
  const plan = planCluster(cluster.config);
  const nodes = await connectNodes(cluster, docker, 'logs');
  const secrets = plan.secrets.filter((s) => !s.endsWith('.crt')).map((s) => cluster.state.read(s)?.trim()).filter((v): v is string => Boolean(v));
  const entries = new Map<string, string>();
  const add = (name: string, text: string) => entries.set(join(plan.cluster, name), scrubSecrets(text, secrets));
  const problems: string[] = [];
  const containers = new Map<string, string[]>();
  try {
    await reporter.step(`Collecting logs on ${nodes.hosts.size} nodes`, async (update) => {
      for (const host of nodes.hosts.values()) {
        containers.set(host.node, await nodeLogs(host, add, problems));
        update(`${host.node}: ${containers.get(host.node)!.length} containers`);
      }
    });
  } finally {
    nodes.close();
  }
  await reporter.step('Listing the API objects and events', () => apiObjects(cluster, add, problems));
  add('problems.txt', problems.map((p) => `${p}\n`).join(''));
  await reporter.step(`Writing ${outFile}`, () => writeLogArchive(outFile, entries, now));
  return { plan, archive: outFile, files: entries.size, containers, problems };
}
