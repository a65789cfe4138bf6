// Benchmark of issue 11 part 3: where `k8s-img up` of the tutorial's 3 nodes spends its
// time, images built (warm), fresh node containers each run; N runs, the median.
//   npm run bench:up                      3 runs
//   npm run bench:up -- --runs 5 --net 192.168.238 --name benchup --prefix k8s-img
// The steps are the pipeline's named actions (and the steps fetch/build and save report
// themselves), timed by the reporter; the node step is split per node by the phases it
// reports (bundle, images = docker load, compose up, health). Every run records the
// load average before and after: on a shared machine, compare runs of the same sitting.
// Prints a Markdown report and writes it to test/bench/up-results.md.
import { removeNodeDirs } from '../../src/providers/image-store.js';
import { removeLocalCluster } from '../../src/providers/local.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseClusterConfig } from '../../src/config/load.js';
import { fetchAndBuild } from '../../src/pipeline/artifacts.js';
import { silentReporter, type Reporter } from '../../src/pipeline/progress.js';
import { up } from '../../src/pipeline/up.js';
import { DockerEngine } from '../../src/runtime/docker.js';
import { PACKAGE_ROOT } from '../../src/runtime/paths.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
};
const runs = Number(arg('runs', '3'));
const net = arg('net', '192.168.251');
const name = arg('name', 'benchup');
const prefix = arg('prefix', 'k8s-img');
const out = arg('out', join(PACKAGE_ROOT, 'test', 'bench', 'up-results.md'));

export const loadavg = () => execFileSync('cat', ['/proc/loadavg']).toString().split(' ').slice(0, 3).join(' ');
const lines: string[] = [];
const say = (l = '') => {
  lines.push(l);
  process.stdout.write(`${l}\n`);
};

export const configText = (cluster: string, pfx: string, subnet: string) => `apiVersion: k8s-img/v1alpha1
kind: Cluster
name: ${cluster}
nodes:
  - { name: sm1, address: ${subnet}.206, roles: [control-plane] }
  - { name: sw1, address: ${subnet}.207, roles: [worker, etcd] }
  - { name: sw2, address: ${subnet}.208, roles: [worker] }
images: { prefix: ${pfx} }
`;

export interface StepTime {
  title: string;
  /** Seconds from the start of the run. */
  start: number;
  seconds: number;
  /** 0 for the pipeline's actions, 1 for the steps inside them. */
  depth: number;
}

/**
 * Times every step (nested ones too), and the per-node phases the node step reports in
 * its progress line ("sm1: images · sw1: compose up · …").
 */
export class TimingReporter implements Reporter {
  readonly steps: StepTime[] = [];
  /** node → phase → seconds from the start of the run when the node entered it. */
  readonly phases = new Map<string, Map<string, number>>();
  private depth = 0;
  constructor(private readonly t0 = Date.now()) {}

  private now = () => (Date.now() - this.t0) / 1000;

  async step<T>(title: string, fn: (update: (detail: string) => void) => Promise<T>): Promise<T> {
    const start = this.now();
    const depth = this.depth++;
    try {
      return await fn((detail) => this.progress(detail));
    } finally {
      this.depth--;
      const seconds = this.now() - start;
      this.steps.push({ title, start, seconds, depth });
      process.stderr.write(`  ${seconds.toFixed(1).padStart(5)} s  ${title}\n`);
    }
  }

  private progress(detail: string): void {
    for (const part of detail.split(' · ')) {
      const m = /^(\S+): (.+)$/.exec(part);
      if (!m) continue;
      const phase = /^waiting for /.test(m[2]!) ? 'health' : m[2]!;
      const node = this.phases.get(m[1]!) ?? new Map<string, number>();
      this.phases.set(m[1]!, node);
      if (!node.has(phase)) node.set(phase, this.now());
    }
  }

  info(): void {}
  warn(message: string): void {
    process.stderr.write(`warning: ${message}\n`);
  }

  /**
   * The steps at depth 0 in order, with the time between them as rows of their own: the
   * actions that report their own steps (the image check, the archives) show up there.
   */
  timeline(end: number): StepTime[] {
    const top = this.steps.filter((s) => s.depth === 0).sort((a, b) => a.start - b.start);
    const rows: StepTime[] = [];
    let at = 0;
    for (const s of top) {
      if (s.start - at > 0.05) rows.push({ title: `(between steps, before: ${s.title})`, start: at, seconds: s.start - at, depth: 0 });
      rows.push(s);
      at = s.start + s.seconds;
    }
    if (end - at > 0.05) rows.push({ title: '(after the last step)', start: at, seconds: end - at, depth: 0 });
    return [...rows, ...this.steps.filter((s) => s.depth > 0).map((s) => ({ ...s, title: `  inside: ${s.title}` }))];
  }

  /** Per node: seconds spent in each phase (until the next one, or `done`). */
  nodePhases(): Map<string, Map<string, number>> {
    const out = new Map<string, Map<string, number>>();
    for (const [node, phases] of this.phases) {
      const seq = [...phases].sort((a, b) => a[1] - b[1]);
      const row = new Map<string, number>();
      seq.forEach(([phase, at], i) => {
        const next = seq[i + 1];
        if (phase !== 'done' && phase !== 'waiting' && next) row.set(phase, next[1] - at);
      });
      out.set(node, row);
    }
    return out;
  }
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Step titles that vary by count are folded into one row. */
const rowName = (title: string) => title.replace(/before: Starting \d+ node containers/, 'before: Starting node containers').replace(/^Saving \d+ images for (\S+)/, 'Saving images for $1').replace(/^= .*/, '');

export interface UpRun {
  steps: StepTime[];
  phases: Map<string, Map<string, number>>;
  timings: { apiReady: number; nodesReady: number; dnsReady: number; total: number };
  load: { before: string; after: string };
}

export async function timeUp(docker: DockerEngine, cluster: string, subnet: string, pfx: string): Promise<UpRun> {
  const dir = mkdtempSync(join(tmpdir(), 'k8s-img-bench-up-'));
  const configPath = join(dir, 'cluster.yaml');
  writeFileSync(configPath, configText(cluster, pfx, subnet));
  await removeLocalCluster(docker, cluster);
  const before = loadavg();
  try {
    const reporter = new TimingReporter();
    const r = await up(configPath, reporter, docker);
    return { steps: reporter.timeline(r.timings.total), phases: reporter.nodePhases(), timings: r.timings, load: { before, after: loadavg() } };
  } finally {
    await removeLocalCluster(docker, cluster);
    rmSync(dir, { recursive: true, force: true });
  }
}

export function report(results: UpRun[], emit: (l?: string) => void): void {
  const n = results.length;
  const cols = results.map((_, i) => `run ${i + 1}`).join(' | ');
  emit(`| from the start of \`k8s-img up\` to | median s | ${cols} |`);
  emit(`|---|---:|${results.map(() => '---:').join('|')}|`);
  for (const k of ['apiReady', 'nodesReady', 'dnsReady'] as const) {
    const label = { apiReady: 'kube-apiserver /readyz', nodesReady: 'all 3 nodes Ready', dnsReady: 'CoreDNS ready' }[k];
    emit(`| ${label} | **${median(results.map((r) => r.timings[k])).toFixed(1)}** | ${results.map((r) => r.timings[k].toFixed(1)).join(' | ')} |`);
  }
  emit(`| load average before → after (1, 5, 15 min) | | ${results.map((r) => `${r.load.before} → ${r.load.after}`).join(' | ')} |`);
  emit();
  emit(`| step (the pipeline's actions, in order) | median s | ${cols} |`);
  emit(`|---|---:|${results.map(() => '---:').join('|')}|`);
  const titles: string[] = [];
  for (const r of results) for (const s of r.steps) if (rowName(s.title) && !titles.includes(rowName(s.title))) titles.push(rowName(s.title));
  const byTitle = (r: UpRun, t: string) => r.steps.filter((s) => rowName(s.title) === t).reduce((a, s) => a + s.seconds, 0);
  for (const t of titles) {
    const v = results.map((r) => byTitle(r, t));
    emit(`| ${t} | ${median(v).toFixed(1)} | ${v.map((x) => x.toFixed(1)).join(' | ')} |`);
  }
  emit();
  emit('| node step, per node and phase (images = `docker load` of its archive) | median s | ' + cols + ' |');
  emit(`|---|---:|${results.map(() => '---:').join('|')}|`);
  const nodes = [...new Set(results.flatMap((r) => [...r.phases.keys()]))].sort();
  for (const node of nodes) {
    for (const phase of ['bundle', 'images', 'compose up', 'health']) {
      const v = results.map((r) => r.phases.get(node)?.get(phase) ?? 0);
      emit(`| ${node}: ${phase} | ${median(v).toFixed(1)} | ${v.map((x) => x.toFixed(1)).join(' | ')} |`);
    }
  }
  void n;
}

async function main(): Promise<void> {
  const docker = new DockerEngine();
  const config = parseClusterConfig(configText(name, prefix, net)).config;
  await fetchAndBuild(config, silentReporter, docker); // warm: every image exists
  say(`# k8s-img up benchmark — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${execFileSync('nproc').toString().trim()} cores`);
  say();
  say(`The tutorial's 3 nodes, images built, fresh node containers each run; ${runs} runs, median (images = what is left of a node's image check: the image store put them there).`);
  say();
  // The first `up` after a build makes the image store (providers/image-store.ts): timed on its own.
  await removeNodeDirs(docker, ['store']);
  process.stderr.write(`first run, no image store (load ${loadavg()})\n`);
  const first = await timeUp(docker, name, net, prefix);
  say(`First \`up\` after a build (it makes the image store): CoreDNS ready after **${first.timings.dnsReady.toFixed(1)} s**, of which starting the node containers ${first.steps.filter((s) => /^Starting \d+ node containers/.test(s.title)).reduce((a, s) => a + s.seconds, 0).toFixed(1)} s (load ${first.load.before} → ${first.load.after}).`);
  say();
  say('Then, the image store there:');
  say();
  const results: UpRun[] = [];
  for (let i = 0; i < runs; i++) {
    process.stderr.write(`run ${i + 1}/${runs} (load ${loadavg()})\n`);
    results.push(await timeUp(docker, name, net, prefix));
  }
  report(results, say);
  writeFileSync(out, `${lines.join('\n')}\n`);
}

if (process.argv[1]?.endsWith('/bench/up.js')) await main();
