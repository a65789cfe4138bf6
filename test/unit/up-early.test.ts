// Issue 11 (a faster way up): local node containers start as soon as the node image
// exists, while the bundles and archives are written; machines over SSH do not.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONVERGE, startEarly, type ConvergeContext } from '../../src/pipeline/converge.js';

const nodes = [
  { name: 'sm1', address: '192.168.237.206', roles: ['control-plane'] },
  { name: 'sw1', address: '192.168.237.207', roles: ['worker', 'etcd'] },
];

function ctxWith(kind: 'local' | 'ssh', provision: (n: unknown[]) => Promise<void>): ConvergeContext {
  return { provider: { kind, provision }, cluster: { config: { nodes } } } as unknown as ConvergeContext;
}

describe('up starts local node containers early', () => {
  it('local: the file\'s nodes are provisioned at once, and only once', async () => {
    const calls: unknown[][] = [];
    const ctx = ctxWith('local', async (n) => {
      calls.push(n);
    });
    startEarly(ctx);
    startEarly(ctx);
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0], nodes);
    // The step that used to start them waits for the same promise instead of starting again.
    const step = CONVERGE.find((a) => typeof a.title === 'function' && /node containers|Connecting/.test(a.title({ ...ctx, provider: { kind: 'local' }, result: { plan: { nodes } } } as never)))!;
    await step.run({ ...ctx, result: { plan: { nodes } } } as never, () => {});
    assert.equal(calls.length, 1);
  });

  it('ssh: nothing happens early (machines are connected to after preflight)', () => {
    let called = false;
    const ctx = ctxWith('ssh', async () => {
      called = true;
    });
    startEarly(ctx);
    assert.equal(called, false);
    assert.equal(ctx.provisioning, undefined);
  });

  it('a failure is reported where it is awaited, not as an unhandled rejection', async () => {
    const ctx = ctxWith('local', () => Promise.reject(new Error('engine gone')));
    startEarly(ctx);
    await new Promise((r) => setTimeout(r, 20)); // an unhandled rejection would fail the test run here
    await assert.rejects(ctx.provisioning!, /engine gone/);
  });
});
