import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CI_SUBSET_IMAGES, CI_SUBSET_SPECS, focusFor } from '../../conformance/subset.js';
import { ClusterError } from '../../errors.js';
import { runConformance } from '../../pipeline/conformance.js';
import { openAnyCluster } from '../../pipeline/cluster.js';
import { ConsoleReporter } from '../../pipeline/progress.js';
import { DockerEngine } from '../../runtime/docker.js';
import type { CliIO } from '../io.js';

interface Args {
  config?: string;
  focus: string;
  quick: boolean;
  skip?: string;
  parallel: number;
  out: string;
  knownHosts?: string;
}

export async function run(args: Args, io: CliIO): Promise<void> {
  const { cluster } = openAnyCluster(args.config);
  const docker = new DockerEngine();
  await docker.ping(); // the suite's images are built here
  const focus = args.quick ? focusFor(CI_SUBSET_SPECS) : args.focus;
  const label = args.quick ? `the quick subset, ${CI_SUBSET_SPECS.length} specs` : undefined;
  const r = await runConformance(cluster, { focus, ...(label ? { label, images: CI_SUBSET_IMAGES } : {}), ...(args.skip ? { skip: args.skip } : {}), parallel: args.parallel, outDir: args.out, ...(args.knownHosts ? { ssh: { knownHosts: args.knownHosts } } : {}) }, docker, new ConsoleReporter(io.stderr));
  const s = r.summary;
  io.stdout.write(`\nconformance: ${s.passed}/${s.ran} passed, ${s.failed} failed (${(r.seconds / 60).toFixed(1)} min); results in ${r.outDir}\n`);
  io.stdout.write(readFileSync(join(r.outDir, 'summary.txt'), 'utf8'));
  if (s.failed > 0 || s.ran === 0) throw new ClusterError(`${s.failed} of ${s.ran} specs failed`, `see ${join(r.outDir, 'e2e.log')} and summary.txt`);
}
