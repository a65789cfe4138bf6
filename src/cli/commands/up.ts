import { describeUpgrade } from '../../pipeline/converge.js';
import { ConsoleReporter } from '../../pipeline/progress.js';
import { up } from '../../pipeline/up.js';
import { contextName, mergeUserKubeconfig } from '../../pipeline/user-kubeconfig.js';
import type { CliIO } from '../io.js';
import { printWarnings } from '../output.js';

export async function run(args: { config?: string; kubeconfigMerge?: boolean }, io: CliIO): Promise<void> {
  const r = await up(args.config, new ConsoleReporter(io.stderr));
  printWarnings(r.cluster.warnings, io.stderr);
  const merged = args.kubeconfigMerge === false ? undefined : await mergeUserKubeconfig(r.cluster);
  const t = r.timings;
  const nodes = r.plan.nodes.map((n) => n.name).join(', ');
  const c = args.config ? ` -c ${args.config}` : '';
  io.stdout.write(
    [
      '',
      `Cluster "${r.plan.cluster}" is up (${r.plan.mode} mode): ${r.plan.nodes.length} nodes Ready (${nodes}), CoreDNS ready.`,
      ...(r.upgraded ? [`  Kubernetes ${describeUpgrade(r.upgraded)}`] : []),
      `  since the start: API ready ${t.apiReady.toFixed(1)} s, all nodes Ready ${t.nodesReady.toFixed(1)} s, DNS ready ${t.dnsReady.toFixed(1)} s`,
      '',
      merged ? `kubectl's current context is now ${contextName(r.plan.cluster)} (merged into ${merged}).` : `Its admin kubeconfig: ${r.kubeconfig}`,
      '',
      'Next:',
      ...(merged ? [] : [`  export KUBECONFIG=${r.kubeconfig}`]),
      `  ${r.kubectl === '/usr/local/bin/kubectl' || r.kubectl.endsWith('/bin/kubectl') ? 'kubectl' : r.kubectl} get nodes -o wide`,
      `  npx k8s-img status${c}     # every component's health`,
      `  npx k8s-img verify${c}     # pods, Services, DNS, rollouts across nodes`,
      `  npx k8s-img load${c} IMAGE # your images from this machine's engine, for pods on every node`,
      `  npx k8s-img down${c}       # remove the node containers, network and volumes`,
      '',
    ].join('\n'),
  );
}
