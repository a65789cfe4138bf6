import { ClusterError } from '../../errors.js';
import { checkCerts, formatCertTable, renewLeaves } from '../../pipeline/certs.js';
import { openLocalCluster } from '../../pipeline/cluster.js';
import { verifyState } from '../../pipeline/state-check.js';
import { planCluster } from '../../plan/plan.js';
import type { CliIO } from '../io.js';

export async function run(args: { action: string; config?: string }, io: CliIO): Promise<void> {
  const { config, state, configPath } = openLocalCluster(args.config);
  const plan = planCluster(config);
  if (args.action === 'renew') {
    // Broken leaf certificates are what renew repairs; anything else stops it.
    await verifyState(state, plan, configPath, true);
    const renewed = await renewLeaves(state, plan);
    io.stdout.write(`renewed ${renewed.length} certificates in ${state.dir}\n`);
    io.stdout.write(`next: regenerate the bundles (k8s-img generate${args.config ? ` -c ${args.config}` : ''}, or k8s-img up for a local cluster) and run \`docker compose up -d\` on each node: the services whose files changed are recreated\n`);
  }
  const rows = await checkCerts(state, plan);
  io.stdout.write(formatCertTable(rows));
  await verifyState(state, plan, configPath);
  const bad = rows.filter((r) => r.status !== 'ok');
  if (args.action === 'check' && bad.length > 0) {
    throw new ClusterError(`${bad.length} certificate(s) need attention: ${bad.map((r) => `${r.name} (${r.status})`).join(', ')}`, 'renew the leaves with `k8s-img certs renew`');
  }
}
