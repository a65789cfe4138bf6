// logs: what a bug report needs from a running cluster, in one archive — per node every
// container's logs (the host agents containerd and kubelet included), `docker ps -a`,
// the compose file, the pods' log files, addresses, routes and iptables rules; and the
// API objects of the usual kinds plus events. Never Secrets (not asked for) nor keys
// (scrubbed from every file, as is every secret value the cluster's state holds).
import { join } from 'node:path';
import tar from 'tar-stream';
import type { ClusterPlan } from '../plan/types.js';
import { planCluster } from '../plan/plan.js';
import type { DockerEngine } from '../runtime/docker.js';
import { KubeClient, credentialsFromKubeconfig } from '../runtime/kube.js';
import { scrubSecrets, writeLogArchive } from '../runtime/log-archive.js';
import { adminKubeconfigPath, type LocalCluster } from './local.js';
import { requireNodeAccess, type NodeAccess } from './node-access.js';
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

async function nodeLogs(node: NodeAccess, add: (name: string, text: string) => void, problems: string[]): Promise<string[]> {
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
  // The kubelet's pod log files, as the nodes keep them.
  try {
    for (const [name, text] of await textFiles(await node.getTar('/var/log/pods'))) add(`${dir}/${name}`, text);
  } catch (e) {
    problems.push(`${node.node}: /var/log/pods: ${(e as Error).message}`);
  }
  return containers;
}

/** The regular files of a tar stream, as text. */
async function textFiles(stream: NodeJS.ReadableStream): Promise<[string, string][]> {
  const out: [string, string][] = [];
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (h, s, next) => {
      const chunks: Buffer[] = [];
      s.on('data', (c) => chunks.push(c as Buffer));
      s.on('end', () => {
        if (h.type === 'file') out.push([h.name, Buffer.concat(chunks).toString('utf8')]);
        next();
      });
      s.on('error', reject);
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  stream.pipe(extract);
  await done;
  return out;
}

async function apiObjects(cluster: LocalCluster, add: (name: string, text: string) => void, problems: string[]): Promise<void> {
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

export async function collectLogs(cluster: LocalCluster, outFile: string, docker: DockerEngine, reporter: Reporter, now = new Date()): Promise<LogsReport> {
  const plan = planCluster(cluster.config);
  const nodes = await requireNodeAccess(docker, plan, 'logs');
  const secrets = plan.secrets.filter((s) => !s.endsWith('.crt')).map((s) => cluster.state.read(s)?.trim()).filter((v): v is string => Boolean(v));
  const entries = new Map<string, string>();
  const add = (name: string, text: string) => entries.set(join(plan.cluster, name), scrubSecrets(text, secrets));
  const problems: string[] = [];
  const containers = new Map<string, string[]>();
  await reporter.step(`Collecting logs on ${nodes.size} nodes`, async (update) => {
    for (const access of nodes.values()) {
      containers.set(access.node, await nodeLogs(access, add, problems));
      update(`${access.node}: ${containers.get(access.node)!.length} containers`);
    }
  });
  await reporter.step('Listing the API objects and events', () => apiObjects(cluster, add, problems));
  add('problems.txt', problems.map((p) => `${p}\n`).join(''));
  await reporter.step(`Writing ${outFile}`, () => writeLogArchive(outFile, entries, now));
  return { plan, archive: outFile, files: entries.size, containers, problems };
}
