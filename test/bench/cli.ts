// CLI start-up and scale benchmark (npm run bench:cli): each command run as a real
// process, hyperfine-style — warm-up runs, then N timed runs; mean ± standard deviation
// and the fastest. Scale: a generated 1003-node cluster (3 control planes + 1000
// workers): validate, plan --json, generate in simple mode, in secure mode with no
// keys yet (every certificate issued) and with the keys there.
// Prints a Markdown table and writes it to test/bench/cli-results.md.
// `--scale-only`: only the 1003-node rows (what generate's speed work looks at), added to
// the results file as a section of its own. `--dir D`: the 1003-node files go under D
// (e.g. a tmpfs, to see k8s-img's part without the disk's; the default is the system's
// temporary folder).
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/runtime/paths.js';
import { RACY_MS } from '../../src/runtime/tree-stamps.js';
import { BIN } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/fixtures.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const SCALE_ONLY = process.argv.includes('--scale-only');
const dirArg = process.argv.indexOf('--dir');
const BASE = dirArg > 0 ? process.argv[dirArg + 1]! : tmpdir();
const lines: string[] = [`# k8s-img CLI benchmark — ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, node ${process.version}${SCALE_ONLY ? ' (the 1003-node rows only)' : ''}`, ''];
const say = (l = '') => {
  lines.push(l);
  process.stdout.write(`${l}\n`);
};

/**
 * One run of `node ARGV` (k8s-img's: `node bin/k8s-img.js ...`): wall seconds, and CPU
 * seconds (user + system, from GNU time) — the figure that holds on a shared, busy machine.
 */
function once(argv: string[], before?: () => void): { wall: number; cpu: number; sys: number } {
  before?.();
  const t = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '@cpu %U %S', process.execPath, ...argv], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const wall = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.status !== 0) throw new Error(`node ${argv.join(' ')}: exit ${r.status}\n${r.stderr}`);
  const m = /@cpu ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr)!;
  return { wall, cpu: Number(m[1]) + Number(m[2]), sys: Number(m[2]) };
}

const stats = (t: number[]) => {
  const mean = t.reduce((a, b) => a + b, 0) / t.length;
  const sd = Math.sqrt(t.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, t.length - 1));
  return `${mean.toFixed(3)} ± ${sd.toFixed(3)} s | ${Math.min(...t).toFixed(3)} s`;
};

/** Prints the row; returns the mean wall time. */
function bench(label: string, args: string[], opts: { runs?: number; warmup?: number; before?: () => void; node?: boolean; settle?: boolean } = {}): number {
  const argv = opts.node ? args : [BIN, ...args];
  for (let i = 0; i < (opts.warmup ?? 2); i++) {
    once(argv, opts.before);
    // A bundle folder written less than 2 s ago is read back, never trusted by its stamps
    // (tree-stamps.ts): wait, so the timed runs see what a later run would.
    if (opts.settle && i === 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, RACY_MS + 500);
  }
  const t = Array.from({ length: opts.runs ?? RUNS }, () => once(argv, opts.before));
  const sys = t.reduce((a, x) => a + x.sys, 0) / t.length;
  say(`| ${label} | ${stats(t.map((x) => x.wall))} | ${stats(t.map((x) => x.cpu))} | ${sys.toFixed(2)} s | ${t.length} |`);
  return t.reduce((a, x) => a + x.wall, 0) / t.length;
}

/** 3 control planes (etcd too) + `workers` workers. */
function scaleConfig(dir: string, mode: 'simple' | 'secure', workers: number): string {
  const nodes = [1, 2, 3].map((i) => `  - { name: cp${i}, address: 10.1.0.${i}, roles: [control-plane, etcd] }`);
  for (let i = 0; i < workers; i++) nodes.push(`  - { name: w${i}, address: 10.1.${1 + Math.floor(i / 250)}.${(i % 250) + 1}, roles: [worker] }`);
  const path = join(dir, `scale-${mode}.yaml`);
  writeFileSync(path, `apiVersion: k8s-img/v1alpha1\nkind: Cluster\nname: scale${mode}\nsecurity: { mode: ${mode} }\nnodes:\n${nodes.join('\n')}\n`);
  return path;
}

const tutorial = join(FIXTURES, 'valid', 'tutorial-secure.yaml');
say(`load average at the start: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
say('');
// sys apart: creating and removing tens of thousands of files is kernel time, which on a
// shared disk varies with what others just deleted (ext4 without a journal scans for
// recently freed inodes), whatever k8s-img itself does.
const header = () => {
  say('| command | wall: mean ± sd | wall: fastest | CPU (user+sys): mean ± sd | CPU: least | of which sys: mean | runs |');
  say('|---|---|---|---|---|---|---|');
};
if (!SCALE_ONLY) {
  header();
  bench('`node -e 0` (the floor: Node.js itself)', ['-e', '0'], { node: true });
  bench('`k8s-img --version`', ['--version']);
  bench('`k8s-img --help`', ['--help']);
  bench("`k8s-img validate` (the tutorial's file)", ['validate', '-c', tutorial]);
  bench("`k8s-img plan` (the tutorial's file)", ['plan', '-c', tutorial]);
}

const dir = mkdtempSync(join(BASE, 'k8s-img-bench-cli-'));
const fsType = spawnSync('findmnt', ['-no', 'FSTYPE', '-T', dir], { encoding: 'utf8' }).stdout.trim() || 'unknown';
say('');
say(`1003-node files in ${dir} (${fsType})`);
say('');
header();
const simple = scaleConfig(dir, 'simple', 1000);
const secure = scaleConfig(dir, 'secure', 1000);
const scaleRuns = Number(process.env.BENCH_SCALE_RUNS ?? 3);
bench('1003 nodes: `validate`', ['validate', '-c', simple], { runs: scaleRuns, warmup: 1 });
const plan = bench('1003 nodes: `plan --json`', ['plan', '--json', '-c', simple], { runs: scaleRuns, warmup: 1 });
const genSimple = bench('1003 nodes: `generate` (simple)', ['generate', '-c', simple, '-o', join(dir, 'out-simple')], { runs: scaleRuns, warmup: 2, settle: true });
const secureState = join(dir, '.k8s-img');
bench('1003 nodes: `generate` (secure, no keys yet: every certificate issued)', ['generate', '-c', secure, '-o', join(dir, 'out-secure')], {
  runs: scaleRuns,
  warmup: 0,
  before: () => rmSync(secureState, { recursive: true, force: true }),
});
const genSecure = bench('1003 nodes: `generate` (secure, keys there)', ['generate', '-c', secure, '-o', join(dir, 'out-secure')], { runs: scaleRuns, warmup: 2, settle: true });
bench('1003 nodes: `generate` (secure, keys there, no stamps: the bundle folder read back)', ['generate', '-c', secure, '-o', join(dir, 'out-secure')], {
  runs: scaleRuns,
  warmup: 1,
  before: () => rmSync(join(secureState, 'scalesecure', 'bundle-stamps'), { force: true }),
});
say('');
say(`\`plan --json\` + \`generate\`, mean wall times added (goal ≤ 2 s): simple ${(plan + genSimple).toFixed(2)} s, secure with the keys there ${(plan + genSecure).toFixed(2)} s`);
say('');
say(`load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
rmSync(dir, { recursive: true, force: true });
const results = join(PACKAGE_ROOT, 'test', 'bench', 'cli-results.md');
if (SCALE_ONLY) appendFileSync(results, `\n${lines.join('\n')}\n`);
else writeFileSync(results, `${lines.join('\n')}\n`);
