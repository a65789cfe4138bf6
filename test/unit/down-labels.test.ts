// `down` removes only what belongs to the cluster it names: a test's container
// that carries the cluster's labels (inherited from an image) is spared.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TEST_LABEL, clusterLabels, spareOnDown } from '../../src/pipeline/local.js';
import { TEST_LABELS } from '../integration/harness.js';

describe('down spares what is not the named cluster', () => {
  const spare = spareOnDown('local');

  it('removes the cluster\'s own node containers', () => {
    assert.equal(spare({ ...clusterLabels('local'), 'io.k8s-img.node': 'sm1', 'io.k8s-img.component': 'node' }), false);
  });

  it('spares a test container even when it carries the cluster label', () => {
    assert.equal(spare({ ...clusterLabels('local'), [TEST_LABEL]: 'true' }), true);
  });

  it('removes a test container whose test label names this cluster', () => {
    assert.equal(spareOnDown('itsecure')({ ...clusterLabels('itsecure'), [TEST_LABEL]: 'itsecure' }), false);
  });

  it('the integration suites label their containers with a cluster of their own', () => {
    assert.notEqual(TEST_LABELS['io.k8s-img.cluster'], 'local');
    assert.equal(TEST_LABELS[TEST_LABEL], 'true');
  });
});
