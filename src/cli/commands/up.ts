import type { CommandModule } from 'yargs';
import { ConsoleReporter } from '../../pipeline/progress.js';
import { up } from '../../pipeline/up.js';
import { printWarnings } from '../output.js';

export const upCommand: CommandModule<object, { config?: string }> = {
  command: 'up',
  describe: 'run a multi-node cluster on this machine, each node a container (default: the tutorial\'s 3 nodes)',
  builder: (y) => y.option('config', { alias: 'c', type: 'string', describe: 'cluster configuration (default: sm1 + sw1 + sw2 on 192.168.232.0/24)' }) as never,
  handler: async (args) => {
    const r = await up(args.config, new ConsoleReporter());
    printWarnings(r.cluster.warnings);
    const t = r.timings;
    const nodes = r.plan.nodes.map((n) => n.name).join(', ');
    process.stdout.write(
      [
        '',
        `Cluster "${r.plan.cluster}" is up (${r.plan.mode} mode): ${r.plan.nodes.length} nodes Ready (${nodes}), CoreDNS ready.`,
        `  since the start: API ready ${t.apiReady.toFixed(1)} s, all nodes Ready ${t.nodesReady.toFixed(1)} s, DNS ready ${t.dnsReady.toFixed(1)} s`,
        '',
        'Next:',
        `  export KUBECONFIG=${r.kubeconfig}`,
        `  ${r.kubectl === '/usr/local/bin/kubectl' || r.kubectl.endsWith('/bin/kubectl') ? 'kubectl' : r.kubectl} get nodes -o wide`,
        `  npx k8s-img status${args.config ? ` -c ${args.config}` : ''}     # every component's health`,
        `  npx k8s-img verify${args.config ? ` -c ${args.config}` : ''}     # pods, Services, DNS, rollouts across nodes`,
        `  npx k8s-img down${args.config ? ` -c ${args.config}` : ''}       # remove the node containers, network and volumes`,
        '',
      ].join('\n'),
    );
  },
};
