// Pod-to-pod TCP throughput and latency, Calico BGP (plain routes) against VXLAN,
// in one run: for each backend a local cluster of the tutorial's topology (one at
// a time), a server pod on sw2, client pods on sw1 (across nodes) and on sw2
// (same node, for reference), with the workload image's iperf-style modes.
//   npm run bench:network      prints a Markdown table, writes test/bench/network-results.md
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_RELEASE } from '../../src/config/versions.js';
import { openLocalCluster, adminKubeconfigPath } from '../../src/pipeline/local.js';
import { imageRef } from '../../src/plan/images.js';
import { KubeClient, credentialsFromKubeconfig } from '../../src/runtime/kube.js';
import { PACKAGE_ROOT } from '../../src/runtime/paths.js';
import { createPod, podIP, runOnce } from '../helpers/pods.js';

const ROUNDS = 3;
const SECONDS = 10;
const ROUND_TRIPS = 2000;

// On a shared machine K8S_IMG_BENCH_PREFIX gives the benchmark images of its own.
const PREFIX = process.env.K8S_IMG_BENCH_PREFIX ?? 'k8s-img';
const WORKLOAD = imageRef(PREFIX, 'workload', DEFAULT_RELEASE);

const BACKENDS = [
  { backend: 'bgp', name: 'it15bench-bgp', subnet: '192.168.212' },
  { backend: 'vxlan', name: 'it15bench-vxlan', subnet: '192.168.213' },
] as const;

function cli(args: string[]): string {
  const r = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'bin', 'k8s-img.js'), ...args], { encoding: 'utf8', timeout: 900_000 });
  if (r.status !== 0) throw new Error(`k8s-img ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function writeConfig(b: (typeof BACKENDS)[number]): string {
  const path = join(mkdtempSync(join(tmpdir(), `k8s-img-${b.name}-`)), 'cluster.yaml');
  writeFileSync(
    path,
    `apiVersion: k8s-img/v1alpha1
kind: Cluster
name: ${b.name}
nodes:
  - { name: sm1, address: ${b.subnet}.206, roles: [control-plane] }
  - { name: sw1, address: ${b.subnet}.207, roles: [worker, etcd] }
  - { name: sw2, address: ${b.subnet}.208, roles: [worker] }
networking:
  calico: { backend: ${b.backend} }
images: { prefix: ${PREFIX} }
`,
  );
  return path;
}

/** Runs the workload as a client on `node`; its key=value output as numbers. */
async function measure(kube: KubeClient, node: string, args: string[]): Promise<Record<string, number>> {
  const out = await runOnce(kube, WORKLOAD, node, args);
  return Object.fromEntries(out.split(/\s+/).map((kv) => kv.split('=')).map(([k, v]) => [k!, Number(v)]));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Row { backend: string; path: string; mbit: number[]; p50: number[]; p99: number[] }

async function bench(b: (typeof BACKENDS)[number]): Promise<Row[]> {
  const config = writeConfig(b);
  process.stderr.write(`== ${b.backend}: up\n`);
  cli(['up', '-c', config]);
  const kube = new KubeClient(credentialsFromKubeconfig(adminKubeconfigPath(openLocalCluster(config).state)));
  try {
    await createPod(kube, WORKLOAD, 'server', 'sw2', ['serve']);
    const ip = await podIP(kube, 'server');
    const rows: Row[] = [];
    for (const [path, from] of [['across nodes (sw1 → sw2)', 'sw1'], ['same node (sw2 → sw2)', 'sw2']] as const) {
      const row: Row = { backend: b.backend, path, mbit: [], p50: [], p99: [] };
      for (let i = 0; i < ROUNDS; i++) {
        const t = await measure(kube, from, ['throughput', '-duration', `${SECONDS}s`, ip]);
        const l = await measure(kube, from, ['latency', '-count', String(ROUND_TRIPS), ip]);
        row.mbit.push(t.mbit_per_s!);
        row.p50.push(l.p50_us!);
        row.p99.push(l.p99_us!);
        process.stderr.write(`   ${b.backend} ${path} round ${i + 1}: ${t.mbit_per_s} Mbit/s, p50 ${l.p50_us} µs, p99 ${l.p99_us} µs\n`);
      }
      rows.push(row);
    }
    return rows;
  } finally {
    kube.close();
    cli(['down', '-c', config]);
  }
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const load = loadavg()[0]!.toFixed(1);
  for (const b of BACKENDS) rows.push(...(await bench(b)));
  const lines = [
    `# Pod-to-pod network benchmark — ${new Date().toISOString().slice(0, 10)}`,
    '',
    `Calico BGP (plain routes, MTU 1500) vs VXLAN (MTU 1450), the tutorial's topology in local mode (all nodes on one bridge, one machine),`,
    `${ROUNDS} rounds each of ${SECONDS} s TCP throughput and ${ROUND_TRIPS} TCP round trips of 64 bytes; medians (all rounds in brackets).`,
    `Load average at the start: ${load} (the machine is shared).`,
    '',
    '| backend | path | TCP throughput Mbit/s | latency p50 µs | latency p99 µs |',
    '|---|---|---:|---:|---:|',
    ...rows.map((r) => `| ${r.backend} | ${r.path} | ${median(r.mbit)} (${r.mbit.join(', ')}) | ${median(r.p50)} (${r.p50.join(', ')}) | ${median(r.p99)} (${r.p99.join(', ')}) |`),
    '',
  ];
  const text = lines.join('\n');
  process.stdout.write(text);
  writeFileSync(join(PACKAGE_ROOT, 'test', 'bench', 'network-results.md'), text);
}

main().catch((e: Error) => {
  process.stderr.write(`${e.stack ?? e.message}\n`);
  process.exitCode = 1;
});
