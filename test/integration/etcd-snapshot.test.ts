// Issue 10: etcd snapshot and restore on a real cluster, the smallest that runs pods
// (one node: control plane, etcd and worker). The 3-member variant is test/long.
import { snapshotSuite } from '../helpers/snapshot-suite.js';

snapshotSuite('it10snap', '  - { name: solo, address: 192.168.251.10, roles: [control-plane, etcd, worker] }\n', 'solo');
