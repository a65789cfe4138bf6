// Issue 10: the same upgrade by editing kubernetesVersion in cluster.yaml and running
// `k8s-img up` (one mechanism: up runs upgrade's rollout), after up refused a downgrade
// and the version changed together with another setting.
import { testName, testNet } from '../integration/harness.js';
import { upgradeSuite } from '../helpers/upgrade-suite.js';

upgradeSuite(testName('10upedit'), testNet(7, '192.168.254'), 'up');
