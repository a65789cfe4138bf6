// conformance: the upstream Kubernetes conformance suite against a k8s-img cluster,
// offline. The suite (e2e.test + ginkgo) and every image its specs use are built here,
// put into the cluster's own registry, and run from this machine; the results land in
// the layout cncf/k8s-conformance asks for (e2e.log, junit_01.xml) plus a summary.
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { leftOutReason } from '../conformance/left-out-images.js';
import { formatSummary, parseJunit, summarize, type Summary } from '../conformance/report.js';
import { HostError } from '../errors.js';
import { planCluster } from '../plan/plan.js';
import type { DockerEngine } from '../runtime/docker.js';
import { run } from '../runtime/exec.js';
import { withFsErrors } from '../runtime/fs-errors.js';
import { realPathOf, refusePseudo } from '../runtime/output-dir.js';
import { fetchAndBuild } from './artifacts.js';
import { addClusterImages } from './cluster-images.js';
import { buildSuite } from './conformance-suite.js';
import { buildTestImages } from './test-images.js';
import { adminKubeconfigPath, type ClusterHandle, type SshOptions } from './cluster.js';
import type { Reporter } from './progress.js';

export const CONFORMANCE_FOCUS = '\\[Conformance\\]';
/** Marks a results folder as ours: a second run may replace what it holds. */
const MARKER = '.k8s-img-conformance';

export interface ConformanceOptions {
  focus: string;
  /** How the selection is shown (a long focus expression is not). */
  label?: string;
  skip?: string;
  /** Only these test images (the quick subset's); otherwise every image e2e.test lists. */
  images?: readonly string[];
  /** ginkgo processes; [Serial] specs still run one at a time, at the end. */
  parallel: number;
  outDir: string;
  /** How machines deployed over SSH are reached (their registries get the images). */
  ssh?: SshOptions;
}

export interface ConformanceResult {
  summary: Summary;
  unbuilt: { ref: string; reason: string }[];
  outDir: string;
  seconds: number;
}

export async function runConformance(cluster: ClusterHandle, opts: ConformanceOptions, docker: DockerEngine, reporter: Reporter): Promise<ConformanceResult> {
  const started = Date.now();
  const outDir = prepareOutDir(opts.outDir);
  const { config } = cluster;
  const plan = planCluster(config);

  const { bins } = await fetchAndBuild(config, reporter, docker); // kubectl, for the kubectl specs
  const suite = await buildSuite(config, reporter);
  // Every image the suite can pull, built here under the names e2e.test uses; those that
  // cannot be built are reported with the reason (their specs fail, nothing is skipped).
  const listed = await run(suite.e2eTest, ['--list-images']);
  if (listed.code !== 0) throw new HostError(`e2e.test --list-images failed: ${listed.stderr.trim().split('\n').at(-1)}`, 'rebuild the suite: remove its folder under ~/.cache/k8s-img/bin/e2e');
  const wanted = opts.images ?? listed.stdout.split('\n').filter(Boolean);
  const images = await buildTestImages(config, docker, reporter, wanted);
  const unbuilt = images.failed.filter((f) => leftOutReason(f.ref) === undefined);
  const leftOut = images.failed.filter((f) => leftOutReason(f.ref) !== undefined);
  for (const u of unbuilt) reporter.warn(`test image ${u.ref} could not be built: ${u.reason}`);
  await addClusterImages(cluster, images.built.map((i) => i.ref), docker, reporter, opts.ssh);

  const log = createWriteStream(join(outDir, 'e2e.log'));
  const args = [
    `--procs=${opts.parallel}`,
    '--timeout=24h',
    '--no-color',
    '--poll-progress-after=300s',
    `--output-dir=${outDir}`,
    '--junit-report=junit_01.xml',
    `--focus=${opts.focus}`,
    ...(opts.skip ? [`--skip=${opts.skip}`] : []),
    suite.e2eTest,
    '--',
    `--kubeconfig=${adminKubeconfigPath(cluster.state)}`,
    '--provider=skeleton',
    `--report-dir=${outDir}`,
    `--dns-domain=${plan.networking.dnsDomain}`,
    `--kubectl-path=${bins.kubectl.path}`,
    '--disable-log-dump',
  ];
  const selection = opts.label ?? `focus ${opts.focus}${opts.skip ? `, skip ${opts.skip}` : ''}`;
  let passed = 0;
  let failed = 0;
  const r = await reporter.step(`Running the conformance suite (${selection}, ${opts.parallel} processes)`, (update) =>
    run(suite.ginkgo, args, {
      cwd: outDir,
      // ginkgo marks each finished spec with one character ("•" passed, "S" skipped) and
      // prints a block for each failure: the log keeps its output as it is.
      onData: (chunk) => {
        log.write(chunk);
        const p = chunk.split('•').length - 1;
        const f = (chunk.match(/\[FAILED\]|\[TIMEDOUT\]|\[PANICKED\]/g) ?? []).length;
        if (p + f > 0) {
          passed += p - f; // a failure's block starts with "• [FAILED]"
          failed += f;
          update(`${passed + failed} specs finished, ${failed} failed`);
        }
      },
    }),
  );
  await new Promise((res) => log.end(res));

  const junit = join(outDir, 'junit_01.xml');
  if (!existsSync(junit)) {
    throw new HostError(`the conformance suite wrote no report (ginkgo exited ${r.code})`, `see ${join(outDir, 'e2e.log')}`);
  }
  const summary = summarize(parseJunit(readFileSync(junit, 'utf8')));
  writeFileSync(join(outDir, 'summary.txt'), formatSummary(summary, unbuilt));
  const record = { kubernetesVersion: suite.kubernetesVersion, cluster: plan.cluster, focus: opts.focus, skip: opts.skip ?? null, ...summary, unbuiltImages: unbuilt, imagesNoConformanceSpecUses: leftOut };
  writeFileSync(join(outDir, 'summary.json'), `${JSON.stringify(record, null, 2)}\n`);
  return { summary, unbuilt, outDir, seconds: (Date.now() - started) / 1000 };
}

/** An absent, empty, or earlier results folder; anything else is refused untouched. */
function prepareOutDir(dir: string): string {
  const real = realPathOf(dir);
  const hint = 'give -o a new or empty folder (or one an earlier `k8s-img conformance` wrote)';
  if (real === '/') throw new HostError(`refusing to write into ${dir}: it is the root folder`, hint);
  refusePseudo(dir, real, hint);
  if (existsSync(real)) {
    const entries = withFsErrors(`cannot list ${real}`, () => readdirSync(real));
    if (entries.length > 0 && !entries.includes(MARKER)) throw new HostError(`refusing to write into ${dir}: it holds files k8s-img did not make`, hint);
  }
  withFsErrors(`cannot create ${real}`, () => {
    mkdirSync(real, { recursive: true });
    writeFileSync(join(real, MARKER), 'results of k8s-img conformance\n');
  });
  return real;
}
