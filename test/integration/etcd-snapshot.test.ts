// Issue 10: etcd snapshot and restore on a real cluster, the smallest that runs pods
// (one node: control plane, etcd and worker), with periodic snapshots every 20 s (two
// kept): the restore takes one of those. The 3-member variant is test/long.
import { snapshotSuite } from '../helpers/snapshot-suite.js';
import { testName, testNet } from './harness.js';

const net = testNet(4, '192.168.251');
snapshotSuite(testName('10snap'), `  - { name: solo, address: ${net}.10, roles: [control-plane, etcd, worker] }\n`, 'solo', { periodic: { every: '20s', keep: 2 } });
