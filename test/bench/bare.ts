// Benchmark of issue 11 part 3: the limit `k8s-img up` is compared with. The same
// binaries, started as bare processes in the same node containers, the tutorial's
// systemd way, for the tutorial's 3 nodes; timed from its start to CoreDNS ready.
//   npm run bench:bare                         1 run
//   npm run bench:bare -- --runs 2 --compare   bare and `k8s-img up` alternating, the ratio up/bare
//   options: --net 192.168.238 --up-net 192.168.235 --name benchbare --up-name benchupc
//            --prefix k8s-img --keep (leave the last bare cluster running) --out FILE
// Each run:
// 1. renders the cluster with the library, exactly as `up` does (renderCluster,
//    writeBundles, the registry's storage): the same flags, certificates, kubeconfigs;
// 2. starts the node containers with local mode's own provider (same image, settings,
//    network and addresses), every object also labelled io.k8s-img.bench=bare;
// 3. per node: its bundle (the product's bundle sync), the host packages its tools-based
//    services expect (bare-files.ts), the files of the images its services use (extracted
//    from the built images once per benchmark, before any run), and one "unit" per
//    Compose service made from its compose.yaml (bare-units.ts);
// 4. starts the units as background processes (`setsid nohup` via `docker exec`), each
//    once the services it depends on are healthy / completed, as compose.yaml orders
//    them (systemd's After= with Type=notify / Type=oneshot). calico-node runs as bare
//    processes too (its own supervisor script), not as a container;
// 5. waits for kube-apiserver /readyz, 3 nodes Ready, CoreDNS ready, as `up` does.
// The Markdown report goes to test/bench/bare-results.md.
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tar from 'tar-stream';
import YAML from 'yaml';
import type Docker from 'dockerode';
import { parseClusterConfig } from '../../src/config/load.js';
import { fetchAndBuild } from '../../src/pipeline/artifacts.js';
import { buildNodeImage } from '../../src/pipeline/build.js';
import { adminKubeconfigPath, bundlesDir, openLocalCluster } from '../../src/pipeline/cluster.js';
import { renderCluster, writeBundles } from '../../src/pipeline/generate.js';
import { syncNodeBundle } from '../../src/pipeline/node-ops.js';
import { silentReporter } from '../../src/pipeline/progress.js';
import { saveRegistryStorage } from '../../src/pipeline/save.js';
import { IMAGES } from '../../src/plan/images.js';
import { names } from '../../src/plan/names.js';
import { planCluster } from '../../src/plan/plan.js';
import type { ClusterPlan, ImageId } from '../../src/plan/types.js';
import { LocalProvider, removeLocalCluster } from '../../src/providers/local.js';
import { adminKubeconfig } from '../../src/runtime/admin-kubeconfig.js';
import { DockerEngine } from '../../src/runtime/docker.js';
import { writeFileAtomic } from '../../src/runtime/files.js';
import { defaultIssuers } from '../../src/runtime/issuers.js';
import { KubeClient, credentialsFromKubeconfig, readyNodes, waitFor } from '../../src/runtime/kube.js';
import { PACKAGE_ROOT } from '../../src/runtime/paths.js';
import { BENCH_LABEL, hostPackagesTar, imageConfig, imageFilesTar } from './bare-files.js';
import { EXIT_DIR, healthArgv, logFile, runScript, runScriptText, startOrder, unitScript, unitScriptText, type ComposeService, type ImageConfig } from './bare-units.js';
import { configText, loadavg, median, report, timeUp, type UpRun } from './up.js';

const argv = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : dflt;
};
const flag = (name: string) => argv.includes(`--${name}`);

/** Everything taken from the built images once, before the timed runs. */
interface Prepared {
  images: Map<string, { id: ImageId; tar: string; config: ImageConfig }>;
  packages: { file: string; packages: string[] };
  nodeImage: string;
}

export interface BareRun {
  timings: { apiReady: number; nodesReady: number; dnsReady: number; total: number };
  /** Phases in order: title, seconds from the start, duration. */
  phases: { title: string; start: number; seconds: number }[];
  /** Per node and service: started (and healthy / completed when something waited for it), seconds from the start. */
  services: { node: string; service: string; started: number; ready?: number }[];
  load: { before: string; after: string };
}

/** The engine as local mode uses it, with the bench label added to what it creates. */
class BenchEngine extends DockerEngine {
  override createNetwork(name: string, subnet: string, labels: Record<string, string>) {
    return super.createNetwork(name, subnet, { ...labels, [BENCH_LABEL]: 'bare' });
  }
  override createVolume(name: string, labels: Record<string, string>) {
    return super.createVolume(name, { ...labels, [BENCH_LABEL]: 'bare' });
  }
  override runContainer(opts: Docker.ContainerCreateOptions) {
    return super.runContainer({ ...opts, Labels: { ...opts.Labels, [BENCH_LABEL]: 'bare' } });
  }
}

async function prepare(docker: DockerEngine, config: ReturnType<typeof parseConfig>, dir: string): Promise<Prepared> {
  const plan: ClusterPlan = planCluster(config);
  const images = new Map<string, { id: ImageId; tar: string; config: ImageConfig }>();
  const ids = [...new Set(plan.nodes.flatMap((n) => n.images))];
  for (const id of ids) {
    const ref = plan.images[id];
    images.set(ref, { id, tar: await imageFilesTar(docker, id, ref, dir), config: await imageConfig(docker, ref) });
  }
  const tools = ids.find((id) => IMAGES[id].base === 'tools');
  if (!tools) throw new Error('no tools-based image in the plan');
  // Built already by any `up` (cached by its inputs): this only looks it up.
  const nodeImage = (await buildNodeImage({ config, docker, reporter: silentReporter, workDir: dir })).ref;
  return { images, packages: await hostPackagesTar(docker, plan.images[tools], nodeImage, dir), nodeImage };
}

const net = arg('net', '192.168.238');
const upNet = arg('up-net', '192.168.235');
const name = arg('name', 'benchbare');
const upName = arg('up-name', 'benchupc');
const prefix = arg('prefix', 'k8s-img');
const parseConfig = () => parseClusterConfig(configText(name, prefix, net)).config;

/** A tar of files (path → text, mode 0755) for `docker cp` to /. */
function scriptsTar(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [path, text] of Object.entries(files)) pack.entry({ name: path.replace(/^\//, ''), mode: 0o755, mtime: new Date(0) }, text);
  pack.finalize();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    pack.on('data', (c: unknown) => chunks.push(c as Buffer));
    pack.on('end', () => resolve(Buffer.concat(chunks)));
    pack.on('error', reject);
  });
}

class Clock {
  readonly t0 = Date.now();
  readonly phases: BareRun['phases'] = [];
  now = () => (Date.now() - this.t0) / 1000;
  async phase<T>(title: string, fn: () => Promise<T>): Promise<T> {
    const start = this.now();
    try {
      return await fn();
    } finally {
      const seconds = this.now() - start;
      this.phases.push({ title, start, seconds });
      process.stderr.write(`  ${this.now().toFixed(1).padStart(6)} s  ${title} (${seconds.toFixed(1)} s)\n`);
    }
  }
}

/** The last lines of every unit's log on a node (shown when a run fails). */
async function unitLogs(docker: DockerEngine, container: string, services: string[]): Promise<string> {
  const r = await docker.exec(container, ['sh', '-c', services.map((s) => `echo "== ${s}"; tail -n 12 ${logFile(s)} 2>&1`).join('; ')]).catch((e: Error) => ({ stdout: e.message }));
  return r.stdout;
}

/** Brings one node up the bare way; resolves when every unit has started. */
async function bareNode(docker: DockerEngine, provider: LocalProvider, prepared: Prepared, cluster: string, bundles: string, node: string, clock: Clock, out: BareRun['services'], stop: { reason?: string }): Promise<void> {
  const container = names.node(cluster, node);
  const host = await provider.connect(node);
  const compose = YAML.parse(readFileSync(join(bundles, node, 'compose.yaml'), 'utf8')) as { services: Record<string, ComposeService> };
  const services = compose.services;
  const config = (svc: string) => prepared.images.get(services[svc]!.image)?.config ?? missing(services[svc]!.image);
  await clock.phase(`${node}: bundle (bundle sync)`, () => syncNodeBundle(host, join(bundles, node)));
  await clock.phase(`${node}: host packages`, () => docker.putArchive(container, createReadStream(prepared.packages.file), '/'));
  await clock.phase(`${node}: binaries (${new Set(Object.values(services).map((s) => s.image)).size} images' files)`, async () => {
    for (const ref of new Set(Object.values(services).map((s) => s.image))) await docker.putArchive(container, createReadStream(prepared.images.get(ref)?.tar ?? missing(ref)), '/');
  });
  await clock.phase(`${node}: units`, async () => {
    const files: Record<string, string> = {};
    for (const svc of Object.keys(services)) {
      files[runScript(svc)] = runScriptText(node, svc, services[svc]!, config(svc));
      files[unitScript(svc)] = unitScriptText(node, svc, services[svc]!, config(svc));
    }
    await docker.putArchive(container, await scriptsTar(files), '/');
  });

  const started = new Map<string, Promise<void>>();
  const waits = new Map<string, Promise<void>>();
  const record = (svc: string) => out.find((s) => s.node === node && s.service === svc)!;
  const poll = (svc: string, what: string, check: () => Promise<Verdict>, intervalMs: number) =>
    pollUntil(`${node}/${svc} ${what}`, 300_000, intervalMs, stop, check).then(() => {
      record(svc).ready ??= clock.now();
    });
  const healthy = (svc: string) => {
    const key = `${svc} healthy`;
    if (!waits.has(key)) {
      const test = healthArgv(services[svc]!);
      waits.set(key, started.get(svc)!.then(() => (test ? poll(svc, 'healthy', async () => (await docker.exec(container, [runScript(svc), ...test])).code === 0, 1000) : undefined)));
    }
    return waits.get(key)!;
  };
  const completed = (svc: string) => {
    const key = `${svc} completed`;
    if (!waits.has(key)) {
      const exit = `${EXIT_DIR}/${svc}.exit`;
      waits.set(key, started.get(svc)!.then(() => poll(svc, 'completed', async () => {
        const r = await docker.exec(container, ['cat', exit]);
        const code = r.code === 0 ? r.stdout.trim() : undefined;
        // Without a restart policy a failed one-shot stays failed.
        if (code !== undefined && code !== '0' && (services[svc]!.restart ?? 'no') === 'no') return `exited with ${code}`;
        return code === '0';
      }, 500)));
    }
    return waits.get(key)!;
  };
  for (const svc of startOrder(services)) {
    const deps = Object.entries(services[svc]!.depends_on ?? {});
    started.set(
      svc,
      (async () => {
        await Promise.all(deps.map(([d, { condition }]) => (condition === 'service_healthy' ? healthy(d) : condition === 'service_completed_successfully' ? completed(d) : started.get(d))));
        if (stop.reason) throw new Error(stop.reason);
        const r = await docker.exec(container, ['sh', '-c', `setsid nohup ${unitScript(svc)} >/dev/null 2>&1 </dev/null &`]);
        if (r.code !== 0) throw new Error(`${node}: cannot start ${svc}: ${r.stderr}`);
        out.push({ node, service: svc, started: clock.now() });
      })(),
    );
  }
  try {
    await Promise.all([...started.values()]);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${await unitLogs(docker, container, Object.keys(services))}`);
  }
}

/** true: done; false: not yet (or an error: tried again); a string: failed for good. */
type Verdict = boolean | string;

/** waitFor, stopped when another part of the run failed (`stop.reason`) or the check says it failed for good. */
async function pollUntil(what: string, timeoutMs: number, intervalMs: number, stop: { reason?: string }, check: () => Promise<Verdict>): Promise<void> {
  const r = await waitFor(what, timeoutMs, async () => (stop.reason ? stop.reason : (await check()) || undefined), intervalMs);
  if (r !== true) throw new Error(`${what}: ${r}`);
}

const missing = (ref: string): never => {
  throw new Error(`${ref}: not prepared`);
};

/** /readyz, all nodes Ready, CoreDNS ready: the milestones `up` reports, polled as `up` polls them (every second). */
async function milestones(kubeconfig: string, nodes: string[], clock: Clock, stop: { reason?: string }): Promise<Omit<BareRun['timings'], 'total'>> {
  const kube = new KubeClient(credentialsFromKubeconfig(kubeconfig));
  const until = (what: string, check: () => Promise<Verdict>) => pollUntil(what, 600_000, 1000, stop, check);
  try {
    await until('kube-apiserver /readyz', async () => (await kube.raw('GET', '/readyz', undefined, { timeoutMs: 5000 })).status === 200);
    const apiReady = clock.now();
    await until('all nodes Ready', async () => (await readyNodes(kube)).length === nodes.length);
    const nodesReady = clock.now();
    await until('CoreDNS ready', async () => {
      const d = await kube.getOrUndefined<{ spec: { replicas: number }; status: { readyReplicas?: number } }>('/apis/apps/v1/namespaces/kube-system/deployments/coredns');
      return d !== undefined && (d.status.readyReplicas ?? 0) >= d.spec.replicas;
    });
    return { apiReady, nodesReady, dnsReady: clock.now() };
  } finally {
    kube.close();
  }
}

export async function timeBare(docker: DockerEngine, prepared: Prepared, cluster: string, subnet: string, pfx: string, keep = false): Promise<BareRun> {
  const dir = mkdtempSync(join(tmpdir(), 'k8s-img-bench-bare-'));
  const configPath = join(dir, 'cluster.yaml');
  writeFileSync(configPath, configText(cluster, pfx, subnet));
  await removeLocalCluster(docker, cluster);
  const before = loadavg();
  const clock = new Clock();
  const stop: { reason?: string } = {};
  try {
    // As `up` opens its cluster: the host's resolvers become CoreDNS's upstream.
    const local = openLocalCluster(configPath);
    const bundles = bundlesDir(local.state);
    const result = await clock.phase('render: certificates, kubeconfigs, compose.yaml (renderCluster, writeBundles)', async () => {
      const r = await renderCluster(local.config, local.state, defaultIssuers());
      writeBundles(bundles, r);
      writeFileAtomic(adminKubeconfigPath(local.state), adminKubeconfig(r.plan, r.secrets), 0o600);
      return r;
    });
    const plan = result.plan;
    await clock.phase("registry storage (the pods' images)", () => saveRegistryStorage(plan, docker, bundles, silentReporter));
    const provider = new LocalProvider(new BenchEngine(docker.api), local.config);
    provider.nodeImage = prepared.nodeImage;
    await clock.phase(`${plan.nodes.length} node containers (LocalProvider.provision)`, () => provider.provision(plan.nodes));
    const services: BareRun['services'] = [];
    const watch = milestones(adminKubeconfigPath(local.state), plan.nodes.map((n) => n.name), clock, stop);
    const nodes = Promise.all(plan.nodes.map((n) => bareNode(docker, provider, prepared, cluster, bundles, n.name, clock, services, stop)));
    try {
      const [m] = await Promise.all([watch, nodes]);
      return { timings: { ...m, total: clock.now() }, phases: clock.phases, services, load: { before, after: loadavg() } };
    } catch (e) {
      stop.reason = 'stopped: another part of the run failed';
      await Promise.allSettled([watch, nodes]);
      throw e;
    }
  } finally {
    if (!keep) {
      await removeLocalCluster(docker, cluster);
      rmSync(dir, { recursive: true, force: true });
    } else process.stderr.write(`kept: node containers k8s-img-${cluster}-*, state in ${dir}\n`);
  }
}

const fmt = (x: number | undefined) => (x === undefined ? '–' : x.toFixed(1));
const MILESTONES = [
  ['apiReady', 'kube-apiserver /readyz'],
  ['nodesReady', 'all 3 nodes Ready'],
  ['dnsReady', 'CoreDNS ready'],
] as const;

function reportBare(results: BareRun[], emit: (l?: string) => void): void {
  const cols = results.map((_, i) => `run ${i + 1}`).join(' | ');
  const sep = `|---|---:|${results.map(() => '---:').join('|')}|`;
  emit(`| from the start of the bare run to | median s | ${cols} |`);
  emit(sep);
  for (const [k, label] of MILESTONES) emit(`| ${label} | **${fmt(median(results.map((r) => r.timings[k])))}** | ${results.map((r) => fmt(r.timings[k])).join(' | ')} |`);
  emit(`| load average before → after (1, 5, 15 min) | | ${results.map((r) => `${r.load.before} → ${r.load.after}`).join(' | ')} |`);
  emit();
  emit(`| phase (nodes in parallel; seconds it took) | median s | ${cols} |`);
  emit(sep);
  const titles = [...new Set(results.flatMap((r) => r.phases.map((p) => p.title)))];
  for (const t of titles) {
    const v = results.map((r) => r.phases.find((p) => p.title === t)?.seconds);
    emit(`| ${t} | ${fmt(median(v.filter((x): x is number => x !== undefined)))} | ${v.map(fmt).join(' | ')} |`);
  }
  emit();
  emit(`| service started → healthy/completed (only where a dependant waits), s from the start | median started | ${cols} |`);
  emit(sep);
  const keys = [...new Set(results.flatMap((r) => r.services.map((s) => `${s.node}/${s.service}`)))];
  for (const k of keys) {
    const rows = results.map((r) => r.services.find((s) => `${s.node}/${s.service}` === k));
    const med = median(rows.filter(Boolean).map((s) => s!.started));
    emit(`| ${k} | ${fmt(med)} | ${rows.map((s) => (s ? `${fmt(s.started)}${s.ready !== undefined ? ` → ${fmt(s.ready)}` : ''}` : '–')).join(' | ')} |`);
  }
}

function reportRatio(bare: BareRun[], up: UpRun[], order: string[], emit: (l?: string) => void): void {
  emit('| milestone | bare median s | `up` median s | ratio up/bare |');
  emit('|---|---:|---:|---:|');
  for (const [k, label] of MILESTONES) {
    const b = median(bare.map((r) => r.timings[k]));
    const u = median(up.map((r) => r.timings[k]));
    emit(`| ${label} | ${fmt(b)} | ${fmt(u)} | **${(u / b).toFixed(2)}×** |`);
  }
  emit();
  emit('| run (in the order they ran) | load before → after | /readyz | nodes Ready | CoreDNS ready |');
  emit('|---|---|---:|---:|---:|');
  let bi = 0;
  let ui = 0;
  for (const o of order) {
    const r = o === 'bare' ? bare[bi++]! : up[ui++]!;
    emit(`| ${o} ${o === 'bare' ? bi : ui} | ${r.load.before} → ${r.load.after} | ${fmt(r.timings.apiReady)} | ${fmt(r.timings.nodesReady)} | ${fmt(r.timings.dnsReady)} |`);
  }
  for (let i = 0; i < Math.min(bare.length, up.length); i++) {
    emit(`| pair ${i + 1}: ratio up/bare | | ${(up[i]!.timings.apiReady / bare[i]!.timings.apiReady).toFixed(2)}× | ${(up[i]!.timings.nodesReady / bare[i]!.timings.nodesReady).toFixed(2)}× | ${(up[i]!.timings.dnsReady / bare[i]!.timings.dnsReady).toFixed(2)}× |`);
  }
}

async function main(): Promise<void> {
  const runs = Number(arg('runs', '1'));
  const compare = flag('compare');
  const out = arg('out', join(PACKAGE_ROOT, 'test', 'bench', 'bare-results.md'));
  const lines: string[] = [];
  const say = (l = '') => {
    lines.push(l);
    process.stdout.write(`${l}\n`);
  };
  const docker = new DockerEngine();
  const config = parseConfig();
  await fetchAndBuild(config, silentReporter, docker); // warm: every image exists
  const work = mkdtempSync(join(tmpdir(), 'k8s-img-bench-bare-files-'));
  try {
    const t = Date.now();
    const prepared = await prepare(docker, config, work);
    const prepSeconds = (Date.now() - t) / 1000;
    process.stderr.write(`prepared: ${prepared.images.size} images' files, host packages ${prepared.packages.packages.join(' ')} (${prepSeconds.toFixed(1)} s)\n`);
    const bare: BareRun[] = [];
    const up: UpRun[] = [];
    const order: string[] = [];
    for (let i = 0; i < runs; i++) {
      // Alternating which goes first, so neither always meets the other's leftovers in the load.
      const sequence = !compare ? ['bare'] : i % 2 === 0 ? ['bare', 'up'] : ['up', 'bare'];
      for (const kind of sequence) {
        process.stderr.write(`run ${i + 1}/${runs}: ${kind} (load ${loadavg()})\n`);
        if (kind === 'bare') bare.push(await timeBare(docker, prepared, name, net, prefix, flag('keep') && i === runs - 1 && !compare));
        else up.push(await timeUp(docker, upName, upNet, prefix));
        order.push(kind);
      }
    }
    say(`# Bare baseline: the same binaries as bare processes — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${execFileSync('nproc').toString().trim()} cores`);
    say();
    say("The tutorial's 3 nodes (sm1 control plane; sw1 worker + etcd; sw2 worker), images built, fresh node containers each run.");
    say('Bare: rendered by the library as `up` renders; in the same node containers (LocalProvider), the files of each');
    say("image its services use, then every Compose service's entrypoint + command with its mounts, environment and user as a");
    say('background process (`setsid nohup`, restart loop), in the order compose.yaml\'s depends_on gives; calico-node as bare');
    say(`processes too. Taking the images' files out of the engine (once, before the runs, as the tutorial downloads its binaries) took ${prepSeconds.toFixed(1)} s;`);
    say(`host packages put on each node (the tools base has them, the node image not): ${prepared.packages.packages.join(', ')}.`);
    say();
    if (compare) {
      say(`## up / bare, same sitting (${runs} runs each, alternating: ${order.join(', ')})`);
      say();
      reportRatio(bare, up, order, say);
      say();
    }
    say(`## Bare (${bare.length} runs)`);
    say();
    reportBare(bare, say);
    if (compare) {
      say();
      say(`## \`k8s-img up\` in the same sitting (${up.length} runs; the table of \`npm run bench:up\`)`);
      say();
      report(up, say);
    }
    writeFileSync(out, `${lines.join('\n')}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
    if (!flag('keep')) await docker.removeLabelled({ [BENCH_LABEL]: 'bare' }).catch(() => undefined);
  }
}

if (process.argv[1]?.endsWith('/bench/bare.js')) await main();
