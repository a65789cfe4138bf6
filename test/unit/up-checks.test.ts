// `up` checks its bundle folder and the state folder before it asks the engine
// for anything (and before the long build): a stub engine fails the test if touched.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, HostError } from '../../src/errors.js';
import { silentReporter } from '../../src/pipeline/progress.js';
import { up } from '../../src/pipeline/up.js';
import type { DockerEngine } from '../../src/runtime/docker.js';
import { prepareCase, snapshot } from '../helpers/bad-input.js';

const untouchable = new Proxy({}, { get: (_t, p) => () => { throw new Error(`the engine was asked: ${String(p)}`); } }) as unknown as DockerEngine;

describe('up checks before it starts', () => {
  it('a corrupt state folder: exit 2, the engine untouched, nothing written', async () => {
    const dir = await prepareCase({ name: 'up', base: 'tutorial-secure', state: true, setup: [{ write: ['.k8s-img/demo/ca.crt', 'garbage'] }], args: [], exit: 2, stderr: '' });
    const before = snapshot(dir);
    await assert.rejects(up(join(dir, 'cluster.yaml'), silentReporter, untouchable), (e: unknown) => e instanceof ConfigError && /ca\.crt is not a readable certificate/.test(e.problems.map((p) => p.message).join('\n')));
    assert.deepEqual(snapshot(dir), before);
  });

  it('a bundles folder that is a file: exit 3, the engine untouched', async () => {
    const dir = await prepareCase({ name: 'up', base: 'tutorial-secure', state: true, setup: [{ write: ['.k8s-img/demo/bundles', 'a file'] }], args: [], exit: 3, stderr: '' });
    await assert.rejects(up(join(dir, 'cluster.yaml'), silentReporter, untouchable), (e: unknown) => e instanceof HostError && /it is a file, not a folder/.test(e.message));
  });

  it('a second cluster file with the same name: exit 2, the engine untouched', async () => {
    const dir = await prepareCase({ name: 'up', base: 'tutorial-secure', state: true, setup: [{ copy: ['cluster.yaml', 'twin.yaml'] }], args: [], exit: 2, stderr: '' });
    await assert.rejects(up(join(dir, 'twin.yaml'), silentReporter, untouchable), (e: unknown) => e instanceof ConfigError && /belongs to .*cluster\.yaml/.test(e.problems[0]!.message));
  });
});
