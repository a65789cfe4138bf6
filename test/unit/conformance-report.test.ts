// Reading ginkgo's JUnit report and the CI subset's selection. Pure.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatSummary, parseJunit, specName, summarize } from '../../src/conformance/report.js';
import { CI_SUBSET, CI_SUBSET_SPECS, focusFor } from '../../src/conformance/subset.js';

const JUNIT = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="4">
  <testsuite name="Kubernetes e2e suite">
    <testcase name="[SynchronizedBeforeSuite]" classname="Kubernetes e2e suite" status="passed" time="0.07"></testcase>
    <testcase name="[It] [sig-auth] ServiceAccounts should mount an API token into pods [Conformance] [sig-auth, Conformance]" classname="Kubernetes e2e suite" status="passed" time="7.7"></testcase>
    <testcase name="[It] [sig-node] Probing container should be restarted with a exec &#34;cat /tmp/health&#34; liveness probe [Conformance] [sig-node, Conformance]" classname="Kubernetes e2e suite" status="passed" time="50"></testcase>
    <testcase name="[It] [sig-network] Services should serve endpoints on same port and different protocols [Conformance] [sig-network, Conformance]" classname="Kubernetes e2e suite" status="failed" time="60.0">
      <failure message="[FAILED] Timed out after 30.001s.&#xA;Expected &lt;nil&gt;" type="failed">[FAILED] Timed out</failure>
    </testcase>
    <testcase name="[It] [sig-storage] In-tree Volumes [Driver: vsphere] should work [Slow] [sig-storage, Driver: vsphere, Slow]" classname="Kubernetes e2e suite" status="skipped" time="0"><skipped message="skipped"></skipped></testcase>
  </testsuite>
</testsuites>`;

describe('conformance report', () => {
  it('reads specs from the junit file, leaving out ginkgo\'s own nodes', () => {
    const specs = parseJunit(JUNIT);
    assert.deepEqual(
      specs.map((s) => [s.name, s.sig, s.status]),
      [
        ['[sig-auth] ServiceAccounts should mount an API token into pods [Conformance]', 'sig-auth', 'passed'],
        ['[sig-node] Probing container should be restarted with a exec "cat /tmp/health" liveness probe [Conformance]', 'sig-node', 'passed'],
        ['[sig-network] Services should serve endpoints on same port and different protocols [Conformance]', 'sig-network', 'failed'],
        ['[sig-storage] In-tree Volumes [Driver: vsphere] should work [Slow]', 'sig-storage', 'skipped'],
      ],
    );
    assert.match(specs[2]!.failure!, /^\[FAILED\] Timed out after 30\.001s\. Expected <nil>/);
  });

  it('names specs as e2e.test lists them', () => {
    assert.equal(specName('[It] [sig-node] Pods should run [Conformance] [NodeConformance] [sig-node, NodeConformance, Conformance]'), '[sig-node] Pods should run [Conformance] [NodeConformance]');
    assert.equal(specName('[It] [sig-cli] Kubectl works [sig-cli]'), '[sig-cli] Kubectl works');
  });

  it('summarises per SIG and counts only specs that ran as N/M', () => {
    const s = summarize(parseJunit(JUNIT));
    assert.deepEqual([s.passed, s.failed, s.skipped, s.ran], [2, 1, 1, 3]);
    const text = formatSummary(s, [{ ref: 'registry.k8s.io/x:1', reason: 'no source' }]);
    assert.match(text, /^2\/3 passed, 1 failed, 1 skipped/);
    assert.match(text, /sig-network +0 passed +1 failed/);
    assert.doesNotMatch(text, /sig-storage/, 'SIGs with nothing run are left out');
    assert.match(text, /registry\.k8s\.io\/x:1: no source/);
  });
});

describe('the CI subset', () => {
  it('has at least 40 distinct [Conformance] specs in the areas the issue names', () => {
    assert.ok(CI_SUBSET_SPECS.length >= 40);
    assert.equal(new Set(CI_SUBSET_SPECS).size, CI_SUBSET_SPECS.length);
    for (const area of ['exec', 'NodePort', 'session affinity', 'DNS', 'EmptyDir', 'subPath', 'ServiceAccount', 'ConfigMaps, Secrets', 'StatefulSet', 'probes', 'security context', 'Always']) {
      assert.ok(CI_SUBSET.some((a) => a.area.includes(area)), area);
    }
  });

  it('matches each name only when [Conformance] follows it, so no twin or longer name is taken', () => {
    const re = new RegExp(focusFor(['[sig-network] DNS should provide DNS for the cluster', '[sig-node] ConfigMap should be consumable via environment variable']));
    assert.ok(re.test('[sig-network] DNS should provide DNS for the cluster [Conformance]'));
    assert.ok(!re.test('[sig-network] DNS should provide DNS for the cluster [Provider:gce]'));
    assert.ok(re.test('[sig-node] ConfigMap should be consumable via environment variable [Conformance] [NodeConformance]'));
    assert.ok(!re.test('[sig-node] ConfigMap should be consumable via environment variable names with various prefixes [Conformance]'));
  });
});
