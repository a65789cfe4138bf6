// Issue 10: etcd snapshot and restore with 3 etcd members (each restored from the same
// snapshot with the full initial cluster). Too long for CI next to the one-node suite.
import { snapshotSuite } from '../helpers/snapshot-suite.js';

snapshotSuite(
  'it10snapha',
  `  - { name: e1, address: 192.168.249.11, roles: [control-plane, etcd] }
  - { name: e2, address: 192.168.249.12, roles: [etcd, worker] }
  - { name: e3, address: 192.168.249.13, roles: [etcd, worker] }
`,
  'e2',
);
