// Day-two benchmark: an etcd snapshot of a cluster holding 10 000 ConfigMaps (time,
// size), and its restore (time until /readyz, how long the API was down).
//   npm run bench:daytwo       (a one-node secure cluster of its own; removed after)
// Prints a Markdown report and writes it to test/bench/daytwo-results.md.
import { removeLocalCluster } from '../../src/providers/local.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localConnector } from '../../src/daytwo/nodes.js';
import { restoreSnapshot } from '../../src/daytwo/snapshot-restore.js';
import { saveSnapshot } from '../../src/daytwo/snapshot-save.js';
import { adminKubeconfigPath, openLocalCluster } from '../../src/pipeline/local.js';
import { ConsoleReporter } from '../../src/pipeline/progress.js';
import { up } from '../../src/pipeline/up.js';
import { planCluster } from '../../src/plan/plan.js';
import { DockerEngine } from '../../src/runtime/docker.js';
import { KubeClient, credentialsFromKubeconfig } from '../../src/runtime/kube.js';
import { PACKAGE_ROOT } from '../../src/runtime/paths.js';

const COUNT = Number(process.env.K8S_IMG_BENCH_CONFIGMAPS ?? 10_000);
const NAME = 'it10bench';
const dir = mkdtempSync(join(tmpdir(), 'k8s-img-bench-daytwo-'));
const configPath = join(dir, 'cluster.yaml');
writeFileSync(configPath, `apiVersion: k8s-img/v1alpha1\nkind: Cluster\nname: ${NAME}\nnodes:\n  - { name: solo, address: 192.168.252.10, roles: [control-plane, etcd, worker] }\nsecurity: { mode: secure }\n`);
const docker = new DockerEngine();
const reporter = new ConsoleReporter(process.stderr);
const lines: string[] = [];
const say = (l = '') => {
  lines.push(l);
  process.stdout.write(`${l}\n`);
};

async function countConfigMaps(kube: KubeClient): Promise<number> {
  let n = 0;
  let cont = '';
  do {
    const page = await kube.get<{ items: { metadata: { name: string } }[]; metadata: { continue?: string } }>(`/api/v1/namespaces/bench/configmaps?limit=2000${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
    n += page.items.filter((c) => c.metadata.name.startsWith('cm-')).length; // not the namespace's kube-root-ca.crt
    cont = page.metadata.continue ?? '';
  } while (cont);
  return n;
}

async function main(): Promise<void> {
  await removeLocalCluster(docker, NAME);
  try {
    await up(configPath, reporter, docker);
    const cluster = openLocalCluster(configPath);
    const plan = planCluster(cluster.config);
    const kube = new KubeClient(credentialsFromKubeconfig(adminKubeconfigPath(cluster.state)));
    await kube.create('/api/v1/namespaces', { metadata: { name: 'bench' } });
    const payload = 'x'.repeat(512);
    let next = 0;
    await reporter.step(`Creating ${COUNT} ConfigMaps`, async (update) => {
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < COUNT) {
            const i = next++;
            await kube.create('/api/v1/namespaces/bench/configmaps', { metadata: { name: `cm-${i}` }, data: { i: String(i), payload } });
            if (i % 500 === 0) update(`${i}`);
          }
        }),
      );
    });
    const connect = localConnector(docker, plan);
    const saved = await saveSnapshot(cluster, plan, connect, reporter, 'bench');
    await kube.delete('/api/v1/namespaces/bench');
    const restored = await restoreSnapshot(cluster, plan, connect, reporter, 'bench');
    const back = await countConfigMaps(kube);
    kube.close();
    const rev = execFileSync('git', ['-C', PACKAGE_ROOT, 'rev-parse', '--short', 'HEAD']).toString().trim();
    say(`# Day-two benchmark — ${new Date().toISOString().slice(0, 10)}, k8s-img ${rev}, ${execFileSync('nproc').toString().trim()} cores (shared with other builds)`);
    say('');
    say(`One-node secure cluster (control plane, etcd, worker), ${COUNT} ConfigMaps of ~0.5 KiB in one namespace.`);
    say('');
    say('| what | result |');
    say('|---|---|');
    say(`| etcd snapshot save (endpoint status, etcdctl snapshot save, etcdutl status, copy off the node) | ${saved.seconds.toFixed(1)} s |`);
    say(`| snapshot size | ${(saved.manifest.size / 1048576).toFixed(1)} MiB (${saved.manifest.etcd.totalKey} keys, revision ${saved.manifest.etcd.revision}) |`);
    say(`| restore, whole command (checksum → /readyz) | ${restored.seconds.toFixed(1)} s |`);
    say(`| API down during the restore (API servers stopped → /readyz) | ${restored.apiDownSeconds.toFixed(1)} s |`);
    say(`| ConfigMaps back after the restore | ${back} of ${COUNT} |`);
    writeFileSync(join(PACKAGE_ROOT, 'test', 'bench', 'daytwo-results.md'), `${lines.join('\n')}\n`);
    if (back !== COUNT) throw new Error(`only ${back} of ${COUNT} ConfigMaps came back`);
  } finally {
    await removeLocalCluster(docker, NAME);
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
