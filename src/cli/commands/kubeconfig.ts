import { openLocalCluster } from '../../pipeline/local.js';
import { clusterEntries } from '../../pipeline/user-kubeconfig.js';
import { mergeKubeconfig } from '../../runtime/kubeconfig-merge.js';
import type { CliIO } from '../io.js';

// The entries `up` merges into the user's kubeconfig, as a file of their own
// (`k8s-img kubeconfig > admin.conf`, or KUBECONFIG=<(k8s-img kubeconfig) kubectl ...).
export function run(args: { config?: string }, io: CliIO): void {
  io.stdout.write(mergeKubeconfig('', clusterEntries(openLocalCluster(args.config))));
}
