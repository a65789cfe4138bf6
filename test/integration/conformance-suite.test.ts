// Issue 8: e2e.test and ginkgo for the cluster's version, built like the components and
// cached; every image e2e.test names is either built (test-images.ts) or left out with a reason.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { findRelease } from '../../src/config/versions.js';
import { leftOutReason } from '../../src/conformance/left-out-images.js';
import { testImages } from '../../src/conformance/test-images.js';
import { buildSuite, type Suite } from '../../src/pipeline/conformance-suite.js';
import { ConsoleReporter, silentReporter } from '../../src/pipeline/progress.js';
import { run } from '../../src/runtime/exec.js';
import { fixtureConfig } from './harness.js';

const config = fixtureConfig('tutorial-simple.yaml');
let suite: Suite;

before(async () => {
  suite = await buildSuite(config, new ConsoleReporter(process.stderr));
});

describe('the conformance suite', () => {
  it('is built for the cluster\'s version, stamped with it, and found in the cache the second time', async () => {
    assert.equal(suite.kubernetesVersion, config.kubernetesVersion);
    assert.match(suite.ginkgoVersion, /^2\.\d+\.\d+$/);
    // Unstamped, e2e.test reports v0.0.0-master and asks for pod-security fixtures of "v0.0".
    assert.ok(readFileSync(suite.e2eTest).includes(Buffer.from(`v${config.kubernetesVersion}`)));
    const steps: string[] = [];
    const recording = { ...silentReporter, step: <T>(title: string, fn: (u: (d: string) => void) => Promise<T>) => (steps.push(title), fn(() => {})) };
    assert.deepEqual(await buildSuite(config, recording), suite);
    assert.deepEqual(steps, [], 'a cached suite is found, not built');
  });

  it('lists the 462 [Conformance] specs of v1.37 (dry run, no cluster)', async () => {
    const r = await run(suite.e2eTest, ['--ginkgo.dry-run', '--ginkgo.focus=\\[Conformance\\]', '--ginkgo.no-color']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Ran 462 of \d+ Specs/);
  });

  it('every image it names is built by test-images.ts or left out with a reason', async () => {
    const r = await run(suite.e2eTest, ['--list-images']);
    assert.equal(r.code, 0, r.stderr);
    const named = r.stdout.split('\n').filter(Boolean);
    const table = new Set(testImages(findRelease(config.kubernetesVersion)!)!.map((t) => t.ref));
    assert.deepEqual(named.filter((ref) => !table.has(ref) && !leftOutReason(ref)), []);
    assert.deepEqual([...table].filter((ref) => !named.includes(ref)), [], 'the table names no image e2e.test does not use');
  });
});
