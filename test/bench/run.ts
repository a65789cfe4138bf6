// Benchmarks whose results go in the README (not timed assertions in tests).
//   npm run bench              warm build, image sizes, local cluster timings and RSS
//   npm run bench -- --cold    also a cold fetch + build (empty caches; tens of minutes), with
//                              where its time goes (each binary group, the Debian base, the images)
//   --build-only, --prefix P   only the build and image tables; images under prefix P
// Prints a Markdown report and writes it to test/bench/results.md.
import { removeLocalCluster } from '../../src/providers/local.js';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseClusterConfig } from '../../src/config/load.js';
import { fetchAndBuild } from '../../src/pipeline/artifacts.js';
import { names } from '../../src/pipeline/local.js';
import { ConsoleReporter, silentReporter } from '../../src/pipeline/progress.js';
import { up } from '../../src/pipeline/up.js';
import { IMAGES } from '../../src/plan/images.js';
import { planCluster } from '../../src/plan/plan.js';
import { IMAGE_IDS } from '../../src/plan/types.js';
import { DockerEngine } from '../../src/runtime/docker.js';
import { PACKAGE_ROOT } from '../../src/runtime/paths.js';

const MB = 1e6;
const coldRun = process.argv.includes('--cold');
/** --build-only: the build and image tables; the local cluster section of the last full run is kept. */
const buildOnly = process.argv.includes('--build-only');
/** --prefix P: build under images.prefix P (default k8s-img), e.g. not to touch a shared engine's images. */
const prefixAt = process.argv.indexOf('--prefix');
const prefix = prefixAt >= 0 && process.argv[prefixAt + 1] ? process.argv[prefixAt + 1]! : 'k8s-img';
/** The cold build's breakdown, printed after the build table. */
const cold: string[] = [];
const lines: string[] = [`# k8s-img benchmark — ${new Date().toISOString().slice(0, 10)}, ${cpuInfo()}`, ''];
const say = (l = '') => {
  lines.push(l);
  process.stdout.write(`${l}\n`);
};

function cpuInfo(): string {
  const cores = execFileSync('nproc').toString().trim();
  const mem = Math.round(Number(/MemTotal:\s+(\d+)/.exec(execFileSync('cat', ['/proc/meminfo']).toString())![1]) / 1024 / 1024);
  return `${cores} cores, ${mem} GiB`;
}

const configText = (name: string, prefix: string, subnet: string) => `apiVersion: k8s-img/v1alpha1
kind: Cluster
name: ${name}
nodes:
  - { name: sm1, address: ${subnet}.206, roles: [control-plane] }
  - { name: sw1, address: ${subnet}.207, roles: [worker, etcd] }
  - { name: sw2, address: ${subnet}.208, roles: [worker] }
images: { prefix: ${prefix} }
`;

/** Records how long each step took (and still prints them). */
class TimingReporter extends ConsoleReporter {
  readonly steps: { title: string; seconds: number }[] = [];
  override async step<T>(title: string, fn: (update: (detail: string) => void) => Promise<T>): Promise<T> {
    const t = Date.now();
    try {
      return await super.step(title, fn);
    } finally {
      this.steps.push({ title, seconds: (Date.now() - t) / 1000 });
    }
  }
}

/** Where a cold build's time goes: one row per binary group, the Debian base, the images. */
function coldBreakdown(steps: { title: string; seconds: number }[]): string[] {
  const rows = new Map<string, number>();
  const add = (k: string, s: number) => rows.set(k, (rows.get(k) ?? 0) + s);
  for (const { title, seconds } of steps) {
    const group = /^Building (\S+) \S+ \(/.exec(title)?.[1];
    if (group) add(`${group} (Go modules downloaded and compiled)`, seconds);
    else if (/root filesystem/.test(title)) add(`Debian base (mmdebstrap: ${/^Pinning/.test(title) ? 'pinning + ' : ''}making)`, seconds);
    else if (/^Building \S+\/rootfs-/.test(title)) add('loading the Debian base as an image', seconds);
    else if (/^Building /.test(title)) add('image builds (layers written, docker load)', seconds);
    else add(title, seconds);
  }
  const total = [...rows.values()].reduce((a, b) => a + b, 0);
  return [...rows].map(([k, v]) => `| ${k} | ${(v / 60).toFixed(1)} min | ${((v / total) * 100).toFixed(0)} % |`);
}

async function coldBuild(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'k8s-img-bench-cold-'));
  const config = parseClusterConfig(configText('benchcold', 'k8s-img-bench-cold', '192.168.250')).config;
  // Empty k8s-img, Go build and Go module caches; a prefix no image has yet.
  process.env.K8S_IMG_CACHE = join(dir, 'cache');
  process.env.GOCACHE = join(dir, 'gocache');
  process.env.GOMODCACHE = join(dir, 'gomodcache');
  const t = Date.now();
  const reporter = new TimingReporter();
  await fetchAndBuild(config, reporter);
  say(`| cold fetch + build (empty caches, Go modules downloaded, every image built) | ${((Date.now() - t) / 60000).toFixed(1)} min |`);
  cold.push('| where the cold build goes | time | share |', '|---|---:|---:|', ...coldBreakdown(reporter.steps));
  const docker = new DockerEngine();
  for (const img of await docker.listImages({ 'io.k8s-img.managed': 'true' })) {
    if (img.RepoTags?.some((r) => r.startsWith('k8s-img-bench-cold/'))) await docker.removeImage(img.Id);
  }
  execFileSync('chmod', ['-R', 'u+w', dir]);
  rmSync(dir, { recursive: true, force: true });
  delete process.env.K8S_IMG_CACHE;
  delete process.env.GOCACHE;
  delete process.env.GOMODCACHE;
}

async function main(): Promise<void> {
  const docker = new DockerEngine();
  const config = parseClusterConfig(configText('bench', prefix, '192.168.251')).config;
  say('## Build');
  say('');
  say('| step | time |');
  say('|---|---|');
  if (coldRun) await coldBuild();
  await fetchAndBuild(config, silentReporter); // make sure everything exists
  let t = Date.now();
  const { images: warm } = await fetchAndBuild(config, silentReporter);
  say(`| warm fetch + build (nothing changed: ${warm.filter((i) => i.status === 'up to date').length}/${warm.length} images up to date) | ${((Date.now() - t) / 1000).toFixed(1)} s |`);
  if (cold.length > 0) {
    say('');
    for (const l of cold) say(l);
  }

  say('');
  say('## Image size vs the binaries it wraps');
  say('');
  say('| image | base | image MB | binaries MB | overhead |');
  say('|---|---|---:|---:|---:|');
  const { bins } = await fetchAndBuild(config, silentReporter);
  const plan = planCluster(config);
  for (const id of IMAGE_IDS) {
    const def = IMAGES[id];
    const info = (await docker.imageInfo(plan.images[id]))!;
    const wrapped = def.wraps.reduce((sum, b) => sum + bins[b].size, 0);
    const overhead = wrapped > 0 ? `${(((info.size - wrapped) / wrapped) * 100).toFixed(1)} %` : 'n/a';
    say(`| ${plan.images[id]} | ${def.base} | ${(info.size / MB).toFixed(1)} | ${(wrapped / MB).toFixed(1)} | ${overhead} |`);
  }

  const results = join(PACKAGE_ROOT, 'test', 'bench', 'results.md');
  if (buildOnly) {
    const previous = existsSync(results) ? readFileSync(results, 'utf8') : '';
    const date = /^# k8s-img benchmark — (\S+)/.exec(previous)?.[1] ?? 'an earlier run';
    const local = previous.indexOf('## Local cluster');
    if (local >= 0) {
      say('');
      say(`${previous.slice(local).trimEnd().replace(/^## Local cluster[^\n]*/, `## Local cluster (from the full run of ${date})`)}`);
    }
    writeFileSync(results, `${lines.join('\n')}\n`);
    return;
  }
  say('');
  say('## Local cluster (images already built)');
  say('');
  const dir = mkdtempSync(join(tmpdir(), 'k8s-img-bench-'));
  const configPath = join(dir, 'cluster.yaml');
  writeFileSync(configPath, configText('bench', 'k8s-img', '192.168.251'));
  await removeLocalCluster(docker, 'bench');
  try {
    t = Date.now();
    const r = await up(configPath, silentReporter, docker);
    say('| from the start of `k8s-img up` to | seconds |');
    say('|---|---:|');
    say(`| kube-apiserver /readyz | ${r.timings.apiReady.toFixed(1)} |`);
    say(`| all 3 nodes Ready | ${r.timings.nodesReady.toFixed(1)} |`);
    say(`| CoreDNS ready | ${r.timings.dnsReady.toFixed(1)} |`);
    await new Promise((res) => setTimeout(res, 60_000)); // settle to idle
    say('');
    say('| container (idle, after 60 s) | memory MiB (docker stats) |');
    say('|---|---:|');
    for (const [node, services] of [['sm1', ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'calico-node']], ['sw1', ['etcd']]] as const) {
      const stats = await docker.exec(names.node('bench', node), ['docker', 'stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}}', ...services.map((s) => `k8s-img-${s}`)]);
      for (const line of stats.stdout.trim().split('\n')) {
        const [name, usage] = line.split(' ');
        say(`| ${name?.replace('k8s-img-', '')} (${node}) | ${parseMiB(usage ?? '')} |`);
      }
    }
  } finally {
    await removeLocalCluster(docker, 'bench');
    rmSync(dir, { recursive: true, force: true });
  }
  writeFileSync(results, `${lines.join('\n')}\n`);
}

function parseMiB(usage: string): string {
  const m = /([\d.]+)(KiB|MiB|GiB)/.exec(usage);
  if (!m) return usage;
  const v = Number(m[1]) * (m[2] === 'GiB' ? 1024 : m[2] === 'KiB' ? 1 / 1024 : 1);
  return v.toFixed(0);
}

await main();
