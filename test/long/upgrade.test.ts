// Issue 10: the rolling upgrade 1.36.3 → 1.37.2 of the tutorial's 3 nodes with `k8s-img upgrade --to`.
import { testName, testNet } from '../integration/harness.js';
import { upgradeSuite } from '../helpers/upgrade-suite.js';

upgradeSuite(testName('10up'), testNet(5, '192.168.253'), 'upgrade');
