import { ClusterError } from '../../errors.js';
import { adminKubeconfigPath, openAnyCluster } from '../../pipeline/cluster.js';
import { Verifier, formatResult } from '../../pipeline/verify.js';
import { planCluster } from '../../plan/plan.js';
import { KubeClient, credentialsFromKubeconfig } from '../../runtime/kube.js';
import type { CliIO } from '../io.js';

export async function run(args: { config?: string }, io: CliIO): Promise<void> {
  const { cluster } = openAnyCluster(args.config);
  const plan = planCluster(cluster.config);
  const kube = new KubeClient(credentialsFromKubeconfig(adminKubeconfigPath(cluster.state)));
  const started = Date.now();
  try {
    const verifier = new Verifier(kube, plan, (r) => io.stdout.write(`${formatResult(r)}\n`));
    io.stdout.write(`verifying cluster "${plan.cluster}" in namespace ${verifier.ns}\n`);
    const results = await verifier.run();
    const failed = results.filter((r) => !r.ok);
    io.stdout.write(`\n${results.length - failed.length} passed, ${failed.length} failed (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
    if (failed.length > 0) throw new ClusterError(`verify: ${failed.length} check(s) failed`, 'run `k8s-img status` to find the unhealthy component');
  } finally {
    kube.close();
  }
}
