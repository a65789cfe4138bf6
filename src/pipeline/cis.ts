// cis: the CIS Kubernetes Benchmark, checked by kube-bench on every node.
// kube-bench runs on the node itself, as on any machine it audits: it reads the
// processes' command lines (`ps`) and the modes and owners of files, so it must see
// the node's process table and file system, nothing less and nothing more. A static
// binary is copied into a private temporary folder there, run once per target, and
// removed — no image to load, and the same two operations (copy a tar, run a
// command) work on a machine reached over SSH.
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import tar from 'tar-stream';
import { ClusterError, HostError } from '../errors.js';
import { KUBE_BENCH, cisPlan, type CisNodePlan, type CisRun, type CisTarget, CIS_TARGETS } from '../plan/cis.js';
import { planCluster } from '../plan/plan.js';
import type { ClusterPlan } from '../plan/types.js';
import { cisControls, kubeBenchConfig } from '../render/cis.js';
import { BinaryCache } from '../runtime/bincache.js';
import type { BundleTarget } from '../runtime/bundle-sync.js';
import { tail } from '../runtime/exec.js';
import { GoToolchain } from '../runtime/gotool.js';
import { cacheDir } from '../runtime/paths.js';
import { fetchBinaries, type FetchedBinaries } from './fetch.js';
import { parseRun, type CisReport } from './cis-report.js';
import type { NodeProvider } from '../providers/types.js';
import { adminKubeconfigPath, type ClusterHandle } from './cluster.js';
import type { Reporter } from './progress.js';

/** How k8s-img reaches a node: run a command, receive a tar, and where the node keeps its bundle. */
export interface NodeAccess {
  target: BundleTarget;
  bundleDir: string;
}

/** What a run leaves for `-o DIR`: per node, kube-bench's own output and the inputs it was given. */
export interface CisNodeOutput {
  node: string;
  files: { path: string; content: string }[];
}

/**
 * Every node of the plan, reached through the cluster's provider: node containers, or
 * machines over SSH after `deploy`. Machines set up by hand cannot be reached.
 */
export async function nodeAccess(provider: NodeProvider | undefined, plan: ClusterPlan): Promise<Map<string, NodeAccess>> {
  if (!provider) {
    throw new ClusterError(
      `cluster ${plan.cluster} has neither local node containers nor a deploy record: k8s-img cis reaches nodes through them`,
      'start it with `k8s-img up` or `k8s-img deploy`; on machines set up by hand, run kube-bench there',
    );
  }
  const out = new Map<string, NodeAccess>();
  for (const n of plan.nodes) {
    const host = await provider.connect(n.name);
    out.set(n.name, { target: host, bundleDir: host.bundleDir });
  }
  return out;
}

const FILE_LIMIT = 200 * 1024 * 1024;
/** Where kube-bench and its inputs stay on a node while it runs (a private folder per run). */
const CIS_HOME = '/var/lib/k8s-img/cis';

async function putTar(access: NodeAccess, node: string, dir: string, stream: NodeJS.ReadableStream): Promise<void> {
  try {
    await access.target.putTar(stream, dir);
  } catch (e) {
    throw new HostError(`cannot copy kube-bench to ${node}:${dir}: ${(e as Error).message}`, "is the node's disk full?", { cause: e });
  }
}

/** A tar of files (from disk or text) for BundleTarget.putTar. */
function pack(entries: { name: string; mode: number; path?: string; content?: string }[]): NodeJS.ReadableStream {
  const p = tar.pack();
  const out = new PassThrough();
  p.pipe(out);
  void (async () => {
    try {
      for (const e of entries) {
        await new Promise<void>((resolve, reject) => {
          if (e.content !== undefined) {
            p.entry({ name: e.name, mode: e.mode, mtime: new Date(0) }, e.content, (err) => (err ? reject(err) : resolve()));
            return;
          }
          const size = statSync(e.path!).size;
          if (size > FILE_LIMIT) throw new Error(`${e.path} is larger than expected`);
          const entry = p.entry({ name: e.name, mode: e.mode, size, mtime: new Date(0) }, (err) => (err ? reject(err) : resolve()));
          createReadStream(e.path!).on('error', reject).pipe(entry);
        });
      }
      p.finalize();
    } catch (err) {
      p.destroy(err as Error);
    }
  })();
  return out;
}

async function onNode(access: NodeAccess, node: string, argv: string[], what: string, dir?: string): Promise<string> {
  const r = await access.target.exec(argv, dir);
  if (r.code !== 0) throw new ClusterError(`${what} on ${node} failed (exit ${r.code}): ${tail(`${r.stderr}\n${r.stdout}`, 6).join('\n')}`, `the node must have sh, ps, stat and find; see the output above`);
  return r.stdout;
}

const kubeBenchArgs = (dir: string, run: CisRun): string[] => [
  'env',
  // kubectl and jq (the policies checks) come from here; kube-bench also asks kubectl for the server version.
  `PATH=${dir}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
  `KUBECONFIG=${dir}/kubeconfig`,
  `${dir}/kube-bench`,
  'run',
  `--config-dir=${dir}/cfg`,
  `--config=${dir}/cfg/config.yaml`,
  `--benchmark=${KUBE_BENCH.benchmark}`,
  `--targets=${run.target}`,
  '--json',
  ...(run.only ? [`--check=${run.only.join(',')}`] : []),
  ...(run.notApplicable.length > 0 ? [`--skip=${run.notApplicable.map((n) => n.id).join(',')}`] : []),
];

/** The benchmark on one node: copy kube-bench and its inputs, run each target, remove them. */
async function benchNode(
  access: NodeAccess,
  p: CisNodePlan,
  bins: FetchedBinaries,
  adminKubeconfig: string | undefined,
  onRun: (target: CisTarget) => void,
): Promise<{ runs: ReturnType<typeof parseRun>[]; output: CisNodeOutput }> {
  const controls = Object.fromEntries(CIS_TARGETS.map((t) => [t, cisControls(readFileSync(bins[`cis-${t}.yaml`].path, 'utf8'), t, p)])) as Record<CisTarget, string>;
  const config = kubeBenchConfig(p);
  const needsAdmin = p.runs.some((r) => r.target === 'policies');
  if (needsAdmin && !adminKubeconfig) throw new ClusterError('the policies checks need the admin kubeconfig, which the state folder does not hold', 'run `k8s-img up` (it writes it)');
  const bench = KUBE_BENCH.benchmark;
  // Not /tmp: Docker cannot copy into a tmpfs (local nodes have one there).
  await onNode(access, p.node, ['mkdir', '-p', '-m', '0700', CIS_HOME], `mkdir ${CIS_HOME}`);
  const dir = (await onNode(access, p.node, ['mktemp', '-d', `${CIS_HOME}/run.XXXXXX`], 'mktemp')).trim();
  try {
    await putTar(access, p.node, dir,
      pack([
        { name: 'kube-bench', mode: 0o700, path: bins['kube-bench'].path },
        { name: 'bin/kubectl', mode: 0o700, path: bins.kubectl.path },
        { name: 'bin/jq', mode: 0o700, path: bins.jq.path },
        { name: 'cfg/config.yaml', mode: 0o600, content: config },
        // kube-bench merges the benchmark's own config.yaml over ours; the upstream one is empty.
        { name: `cfg/${bench}/config.yaml`, mode: 0o600, content: '---\n' },
        ...CIS_TARGETS.map((t) => ({ name: `cfg/${bench}/${t}.yaml`, mode: 0o600, content: controls[t] })),
        ...(needsAdmin ? [{ name: 'kubeconfig', mode: 0o600, content: adminKubeconfig! }] : []),
      ]),
    );
    const runs: ReturnType<typeof parseRun>[] = [];
    const files: CisNodeOutput['files'] = [{ path: 'config.yaml', content: config }];
    for (const run of p.runs) {
      onRun(run.target);
      const json = await onNode(access, p.node, kubeBenchArgs(dir, run), `kube-bench ${run.target}`, dir);
      try {
        runs.push(parseRun(json, run, p));
      } catch (e) {
        throw new ClusterError(`kube-bench ${run.target} on ${p.node}: ${(e as Error).message}`, 'kube-bench did not run its checks; its output is above', { cause: e });
      }
      files.push({ path: `kube-bench-${run.target}.json`, content: json }, { path: `cfg/${run.target}.yaml`, content: controls[run.target] });
    }
    return { runs, output: { node: p.node, files } };
  } finally {
    await access.target.exec(['rm', '-rf', '--', dir]).catch(() => undefined);
  }
}

export interface CisResult {
  report: CisReport;
  outputs: CisNodeOutput[];
}

export async function runCis(cluster: ClusterHandle, provider: NodeProvider | undefined, reporter: Reporter): Promise<CisResult> {
  const plan = planCluster(cluster.config);
  const nodes = await nodeAccess(provider, plan);
  const cache = new BinaryCache(cacheDir());
  // kube-bench (on demand, cached like the components), kubectl and jq for the policies checks.
  const bins = await fetchBinaries({ config: cluster.config, cache, go: new GoToolchain({ proxy: cluster.config.binaries.goproxy }), reporter }, ['kube-bench', 'gojq', 'kubernetes']);
  const plans = cisPlan(plan, (n) => nodes.get(n)!.bundleDir);
  const adminPath = adminKubeconfigPath(cluster.state);
  let admin: string | undefined;
  try {
    admin = readFileSync(adminPath, 'utf8');
  } catch {
    admin = undefined;
  }
  const results = await reporter.step(`kube-bench v${KUBE_BENCH.version} (${KUBE_BENCH.benchmark}) on ${plan.nodes.length} nodes`, async (update) => {
    const done: string[] = [];
    // Nodes in parallel (each has its own processes and files); targets one after the other.
    return Promise.all(
      plans.map(async (p) => {
        const r = await benchNode(nodes.get(p.node)!, p, bins, admin, (t) => update(`${p.node}: ${t}`));
        done.push(p.node);
        update(`${done.length}/${plans.length} nodes done`);
        return r;
      }),
    );
  });
  return {
    report: {
      cluster: plan.cluster,
      mode: plan.mode,
      benchmark: KUBE_BENCH.benchmark,
      kubeBench: KUBE_BENCH.version,
      nodes: plans.map((p, i) => ({ node: p.node, roles: p.roles, runs: results[i]!.runs })),
    },
    outputs: results.map((r) => r.output),
  };
}
