import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HostError } from '../../errors.js';
import { openLocalCluster } from '../../pipeline/local.js';
import { collectLogs } from '../../pipeline/logs.js';
import { ConsoleReporter } from '../../pipeline/progress.js';
import { DockerEngine } from '../../runtime/docker.js';
import { withFsErrors } from '../../runtime/fs-errors.js';
import type { CliIO } from '../io.js';
import { printWarnings } from '../output.js';

// The archive is a new file in DIR (made if absent): nothing there is replaced or removed.
export async function run(args: { config?: string; out: string }, io: CliIO): Promise<void> {
  const cluster = openLocalCluster(args.config);
  printWarnings(cluster.warnings, io.stderr);
  const now = new Date();
  const dir = resolve(args.out);
  withFsErrors(`cannot create ${dir}`, () => mkdirSync(dir, { recursive: true }));
  const file = join(dir, `${cluster.config.name}-logs-${now.toISOString().replace(/[:.]/g, '').slice(0, 15)}Z.tar.gz`);
  if (existsSync(file)) throw new HostError(`${file} exists`, 'run it again in a second, or pass another -o DIR');
  const docker = new DockerEngine();
  await docker.ping();
  const r = await collectLogs(cluster, file, docker, new ConsoleReporter(io.stderr), now);
  for (const [node, containers] of r.containers) io.stdout.write(`  ${node}: ${containers.length} containers' logs (${containers.join(', ')})\n`);
  for (const p of r.problems) io.stderr.write(`warning: not collected: ${p}\n`);
  io.stdout.write(`${r.archive}: ${r.files} files (no Secrets; keys and tokens scrubbed)\n`);
}
