// Issue 10: etcd snapshot and restore with 3 etcd members (each restored from the same
// snapshot with the full initial cluster). Too long for CI next to the one-node suite.
import { snapshotSuite } from '../helpers/snapshot-suite.js';
import { testName, testNet } from '../integration/harness.js';

const net = testNet(6, '192.168.249');
snapshotSuite(
  testName('10snapha'),
  `  - { name: e1, address: ${net}.11, roles: [control-plane, etcd] }
  - { name: e2, address: ${net}.12, roles: [etcd, worker] }
  - { name: e3, address: ${net}.13, roles: [etcd, worker] }
`,
  'e2',
);
