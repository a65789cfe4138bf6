// Benchmarks of issue 9 (results go in the README), on this machine, in one run:
//   1. `up` (local node containers) vs `deploy` over SSH of the tutorial's three nodes,
//      images built, from nothing to CoreDNS ready;
//   2. `deploy` again with nothing changed (in-process and as a command);
//   3. three control planes, one machine stopped: how long API requests through another
//      node's load balancer fail (a request every 100 ms, each on a new connection).
//   npm run bench:deploy    (K8S_IMG_BENCH_NETS="250,251,252" picks the /24s, K8S_IMG_BENCH_PREFIX the image
//   prefix, K8S_IMG_BENCH_NAME the start of the cluster names: for a shared machine)
// Prints a Markdown report and writes it to test/bench/deploy-results.md.
import { removeLocalCluster } from '../../src/providers/local.js';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { parseClusterConfig } from '../../src/config/load.js';
import { fetchAndBuild } from '../../src/pipeline/artifacts.js';
import { hostResolvers, openCluster, sshProvider } from '../../src/pipeline/cluster.js';
import { deploy } from '../../src/pipeline/deploy.js';
import { silentReporter } from '../../src/pipeline/progress.js';
import { up } from '../../src/pipeline/up.js';
import { readRecord } from '../../src/runtime/deploy-record.js';
import { DockerEngine } from '../../src/runtime/docker.js';
import { PACKAGE_ROOT } from '../../src/runtime/paths.js';
import { knownHostsText, loginKey, machineName, sshNodeImage, startMachines } from '../integration/ssh-nodes.js';
import { BIN } from '../helpers/cli.js';

const nets = (process.env.K8S_IMG_BENCH_NETS ?? '250,251,252').split(',').map((n) => `192.168.${n.trim()}`);
const prefix = process.env.K8S_IMG_BENCH_PREFIX ?? 'k8s-img';
const docker = new DockerEngine();
const lines: string[] = [];
const say = (l = '') => {
  lines.push(l);
  process.stdout.write(`${l}\n`);
};
const load = () => execFileSync('cat', ['/proc/loadavg']).toString().split(' ').slice(0, 3).join(' ');

const tutorial = (net: string) => [
  { name: 'sm1', address: `${net}.206`, roles: 'control-plane' },
  { name: 'sw1', address: `${net}.207`, roles: 'worker, etcd' },
  { name: 'sw2', address: `${net}.208`, roles: 'worker' },
];
const yaml = (name: string, nodes: { name: string; address: string; roles: string }[], ssh = '') =>
  `apiVersion: k8s-img/v1alpha1\nkind: Cluster\nname: ${name}\n${ssh}nodes:\n${nodes.map((n) => `  - { name: ${n.name}, address: ${n.address}, roles: [${n.roles}] }\n`).join('')}images: { prefix: ${prefix} }\n`;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'k8s-img-bench-deploy-'));
  const keys = loginKey();
  const sshBlock = `ssh: { user: root, identityFile: ${keys.identityFile} }\n`;
  const tag = process.env.K8S_IMG_BENCH_NAME ?? 'bench';
  const names = { local: `${tag}up`, ssh: `${tag}ssh`, ha: `${tag}ha` };
  for (const n of Object.values(names)) await removeLocalCluster(docker, n);
  const config = parseClusterConfig(yaml(names.local, tutorial(nets[0]!))).config;
  await fetchAndBuild(config, silentReporter, docker); // images built before anything is timed
  const image = await sshNodeImage(config, docker);
  say(`# k8s-img deploy benchmark — ${new Date().toISOString().slice(0, 10)}, load average at the start ${load()}`);
  say('');
  try {
    // 1. local up vs deploy over SSH, same machine, same run.
    const localFile = join(dir, 'local.yaml');
    writeFileSync(localFile, yaml(names.local, tutorial(nets[0]!)));
    const u = await up(localFile, silentReporter, docker);
    await removeLocalCluster(docker, names.local);

    const sshNodes = tutorial(nets[1]!);
    const sshFile = join(dir, 'ssh.yaml');
    const knownHosts = join(dir, 'known_hosts');
    writeFileSync(sshFile, yaml(names.ssh, sshNodes, sshBlock));
    await startMachines(docker, image, names.ssh, `${nets[1]}.0/24`, sshNodes, keys, hostResolvers());
    writeFileSync(knownHosts, knownHostsText(keys, sshNodes));
    const d = await deploy(sshFile, { knownHosts }, silentReporter, docker);
    say('## The tutorial\'s three nodes, images built, from nothing to CoreDNS ready');
    say('');
    say('| seconds from the start to | `k8s-img up` (node containers) | `k8s-img deploy` (SSH) | ratio |');
    say('|---|---:|---:|---:|');
    for (const [label, key] of [['kube-apiserver /readyz', 'apiReady'], ['all 3 nodes Ready', 'nodesReady'], ['CoreDNS ready', 'dnsReady']] as const) {
      say(`| ${label} | ${u.timings[key].toFixed(1)} | ${d.timings[key].toFixed(1)} | ${(d.timings[key] / u.timings[key]).toFixed(2)} |`);
    }

    // 2. deploy again, nothing changed.
    const inProcess: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = Date.now();
      await deploy(sshFile, { knownHosts }, silentReporter, docker);
      inProcess.push((Date.now() - t) / 1000);
    }
    const command: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = Date.now();
      const r = spawnSync(process.execPath, [BIN, 'deploy', '-c', sshFile, '--known-hosts', knownHosts], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`deploy failed: ${r.stderr}`);
      command.push((Date.now() - t) / 1000);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!.toFixed(1);
    say('');
    say('## Deploy again with nothing changed (3 nodes; median of 3)');
    say('');
    say('| how | seconds |');
    say('|---|---:|');
    say(`| in-process (\`deploy()\`) | ${median(inProcess)} |`);
    say(`| \`k8s-img deploy\` as a command (node start-up included) | ${median(command)} |`);
    await removeLocalCluster(docker, names.ssh);

    // 3. three control planes, one machine stopped.
    const haNodes = ['h1', 'h2', 'h3'].map((n, i) => ({ name: n, address: `${nets[2]}.${11 + i}`, roles: 'control-plane, etcd, worker' }));
    const haFile = join(dir, 'ha.yaml');
    const haKnown = join(dir, 'ha_known_hosts');
    writeFileSync(haFile, yaml(names.ha, haNodes, sshBlock));
    await startMachines(docker, image, names.ha, `${nets[2]}.0/24`, haNodes, keys, hostResolvers());
    writeFileSync(haKnown, knownHostsText(keys, haNodes));
    await deploy(haFile, { knownHosts: haKnown }, silentReporter, docker);
    const window = await lossWindow(haFile, haKnown, names.ha);
    say('');
    say('## Three control planes: h1 stopped (`docker stop -t 0` of the whole machine)');
    say('');
    say('API requests (`GET /api/v1/namespaces/default`, admin certificate) through h2\'s load balancer, one every 100 ms on a new connection, from 5 s before to 25 s after:');
    say('');
    say('| requests | failed | failure window (s) | slowest request (ms) |');
    say('|---:|---:|---:|---:|');
    say(`| ${window.requests} | ${window.failed} | ${window.seconds.toFixed(1)} | ${window.slowest} |`);
    say('');
    say(`load average at the end: ${load()}`);
  } finally {
    for (const n of Object.values(names)) await removeLocalCluster(docker, n);
    for (const d of [dir, keys.dir]) rmSync(d, { recursive: true, force: true }); // state folders: bundles, image archives
  }
  writeFileSync(join(PACKAGE_ROOT, 'test', 'bench', 'deploy-results.md'), `${lines.join('\n')}\n`);
}

async function lossWindow(file: string, knownHosts: string, cluster: string): Promise<{ requests: number; failed: number; seconds: number; slowest: number }> {
  const c = openCluster(file);
  const provider = sshProvider(c, readRecord(c.state), { knownHosts });
  const session = await provider.session('h2');
  const tls = { ca: c.state.read('ca.crt')!, cert: c.state.read('admin.crt')!, key: c.state.read('admin.key')! };
  const once = async (): Promise<boolean> => {
    const tunnel = await session.forward('127.0.0.1', 6444);
    return new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', path: '/api/v1/namespaces/default', createConnection: () => connect({ socket: tunnel, ...tls, host: '127.0.0.1' }), timeout: 5000 }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve(false));
      req.end();
    });
  };
  const results: { at: number; ok: boolean; ms: number }[] = [];
  const start = Date.now();
  let stopped = false;
  while (Date.now() - start < 30_000) {
    if (!stopped && Date.now() - start > 5000) {
      stopped = true;
      await docker.api.getContainer(machineName(cluster, 'h1')).stop({ t: 0 });
    }
    const t = Date.now();
    const ok = await once();
    results.push({ at: t - start, ok, ms: Date.now() - t });
    await new Promise((r) => setTimeout(r, 100));
  }
  provider.close();
  const bad = results.filter((r) => !r.ok);
  const seconds = bad.length === 0 ? 0 : (bad.at(-1)!.at + bad.at(-1)!.ms - bad[0]!.at) / 1000;
  return { requests: results.length, failed: bad.length, seconds, slowest: Math.max(...results.map((r) => r.ms)) };
}

await main();
