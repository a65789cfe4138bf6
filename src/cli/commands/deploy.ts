import { describeOutcome, describeUpgrade } from '../../pipeline/converge.js';
import { deploy } from '../../pipeline/deploy.js';
import { ConsoleReporter } from '../../pipeline/progress.js';
import { contextName, mergeUserKubeconfig } from '../../pipeline/user-kubeconfig.js';
import type { CliIO } from '../io.js';
import { printWarnings } from '../output.js';

export async function run(args: { config: string; acceptNew: boolean; knownHosts?: string; kubeconfigMerge?: boolean }, io: CliIO): Promise<void> {
  const r = await deploy(args.config, { acceptNew: args.acceptNew, ...(args.knownHosts ? { knownHosts: args.knownHosts } : {}) }, new ConsoleReporter(io.stderr));
  printWarnings(r.cluster.warnings, io.stderr);
  const merged = args.kubeconfigMerge === false ? undefined : await mergeUserKubeconfig(r.cluster);
  const t = r.timings;
  const c = ` -c ${args.config}`;
  io.stdout.write(
    [
      '',
      `Cluster "${r.plan.cluster}" is deployed (${r.plan.mode} mode): ${r.plan.nodes.length} nodes Ready (${r.plan.nodes.map((n) => n.name).join(', ')}), CoreDNS ready.`,
      ...(r.upgraded ? [`  Kubernetes ${describeUpgrade(r.upgraded)}`] : []),
      ...r.outcomes.map((o) => `  ${o.node}: ${describeOutcome(o)}`),
      ...(r.removed.length ? [`  removed: ${r.removed.join(', ')}`] : []),
      `  since the start: API ready ${t.apiReady.toFixed(1)} s, all nodes Ready ${t.nodesReady.toFixed(1)} s, DNS ready ${t.dnsReady.toFixed(1)} s, total ${t.total.toFixed(1)} s`,
      `  every node reaches the API through its own load balancer (${r.plan.apiServer.nodeEndpoint.replace('https://', '')}) over ${r.plan.apiServer.addresses.length} control plane(s)`,
      '',
      merged ? `kubectl's current context is now ${contextName(r.plan.cluster)} (merged into ${merged}).` : `Its admin kubeconfig: ${r.kubeconfig}`,
      '',
      'Next:',
      ...(merged ? [] : [`  export KUBECONFIG=${r.kubeconfig}`]),
      `  npx k8s-img status${c}     # every component's health, on every node`,
      `  npx k8s-img verify${c}     # pods, Services, DNS, rollouts across nodes`,
      '',
    ].join('\n'),
  );
}
