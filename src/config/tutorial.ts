// The tutorial's three machines: the starter file of `init` and the default of `up`.
import type { ClusterConfig } from './schema.js';
import { API_VERSION } from './schema.js';

export const TUTORIAL_TOPOLOGY: ClusterConfig = {
  apiVersion: API_VERSION,
  kind: 'Cluster',
  name: 'demo',
  nodes: [
    { name: 'sm1', address: '192.168.232.206', roles: ['control-plane'] },
    { name: 'sw1', address: '192.168.232.207', roles: ['worker', 'etcd'] },
    { name: 'sw2', address: '192.168.232.208', roles: ['worker'] },
  ],
};
