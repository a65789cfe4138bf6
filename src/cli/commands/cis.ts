import { join } from 'node:path';
import { ClusterError } from '../../errors.js';
import { failures, formatCisReport } from '../../pipeline/cis-report.js';
import { runCis, type CisResult } from '../../pipeline/cis.js';
import { protectedPaths } from '../../pipeline/generate.js';
import { openAnyCluster, providerFor } from '../../pipeline/cluster.js';
import { ConsoleReporter } from '../../pipeline/progress.js';
import { DockerEngine } from '../../runtime/docker.js';
import { replaceTree, type TreeFile } from '../../runtime/files.js';
import { CIS_FOLDER, checkOutputDir, markerContent } from '../../runtime/output-dir.js';
import type { CliIO } from '../io.js';

const REPORTS = ['report.txt', 'report.json'];

export async function run(args: { config?: string; out?: string; json: boolean; knownHosts?: string }, io: CliIO): Promise<void> {
  const { cluster, record } = openAnyCluster(args.config);
  // The output folder is checked before any work: ours (a previous `cis -o`) or refused.
  const out = args.out === undefined ? undefined : checkOutputDir(args.out, protectedPaths(cluster.configPath, cluster.state), { kind: CIS_FOLDER });
  const docker = new DockerEngine();
  if (record?.provider !== 'ssh') await docker.ping();
  const provider = await providerFor(cluster, record, docker, { ...(args.knownHosts ? { knownHosts: args.knownHosts } : {}) });
  let result: CisResult;
  try {
    result = await runCis(cluster, provider, new ConsoleReporter(io.stderr));
  } finally {
    provider?.close();
  }
  const { report, outputs } = result;
  const text = formatCisReport(report);
  io.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : text);
  if (out) {
    const files: TreeFile[] = [
      { path: CIS_FOLDER.marker, content: markerContent(outputs.map((o) => o.node), CIS_FOLDER, REPORTS), mode: 0o644 },
      { path: 'report.txt', content: text, mode: 0o644 },
      { path: 'report.json', content: `${JSON.stringify(report, null, 2)}\n`, mode: 0o644 },
      ...outputs.flatMap((o) => o.files.map((f) => ({ path: join(o.node, f.path), content: f.content, mode: 0o644 }))),
    ];
    replaceTree(out.dir, files);
    io.stderr.write(`kube-bench's output, its inputs and the report: ${out.dir}\n`);
  }
  const failed = failures(report);
  if (failed.length > 0) {
    const named = failed.slice(0, 12).map((f) => `${f.node} ${f.target} ${f.check.id}`);
    throw new ClusterError(
      `${failed.length} CIS check(s) failed: ${named.join(', ')}${failed.length > named.length ? `, … (${failed.length - named.length} more above)` : ''}`,
      'each FAIL above names the check and what was found; kube-bench\'s remediation is in its JSON (-o DIR)',
    );
  }
}
