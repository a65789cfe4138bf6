// Real processes: SIGINT/SIGTERM never leave a temporary folder (which may hold
// private keys) behind, and an interrupted generate leaves the output whole or absent.
import { scratchDir } from '../helpers/scratch.js';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { PACKAGE_ROOT } from '../../src/runtime/paths.js';
import { snapshot } from '../helpers/bad-input.js';
import { BIN } from '../helpers/cli.js';
import { readFixture } from '../helpers/fixtures.js';

const cleanup = pathToFileURL(join(PACKAGE_ROOT, 'dist', 'src', 'runtime', 'temp-cleanup.js')).href;

describe('signals', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} removes tracked temporary folders, then ends the process by that signal`, () => {
      const dir = scratchDir('k8s-img-sig-');
      const tmp = join(dir, '.out.tmp-x');
      const script = `
        import { mkdirSync, writeFileSync } from 'node:fs';
        import { trackTemp } from ${JSON.stringify(cleanup)};
        trackTemp(${JSON.stringify(tmp)});
        mkdirSync(${JSON.stringify(tmp)}, { mode: 0o700 });
        writeFileSync(${JSON.stringify(join(tmp, 'ca.key'))}, 'secret', { mode: 0o600 });
        process.kill(process.pid, '${signal}');
        setTimeout(() => process.exit(0), 5000);`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 10_000 });
      assert.equal(r.signal, signal, r.stderr);
      assert.equal(existsSync(tmp), false, 'the temporary folder remains');
    });
  }

  it('an interrupted generate leaves no temporary folder, and the output whole or absent', async () => {
    for (const delay of [50, 150, 250, 350, 450]) {
      const dir = scratchDir('k8s-img-sig-');
      writeFileSync(join(dir, 'cluster.yaml'), readFixture('valid/tutorial-secure.yaml'));
      const child = spawn(process.execPath, [BIN, 'generate', '-o', 'out'], { cwd: dir, stdio: 'ignore' });
      setTimeout(() => child.kill('SIGINT'), delay);
      await new Promise((resolve) => child.on('exit', resolve));
      const left = Object.keys(snapshot(dir)).filter((p) => p.includes('.tmp-'));
      assert.deepEqual(left, [], `after SIGINT at ${delay} ms`);
      if (existsSync(join(dir, 'out'))) assert.deepEqual(readdirSync(join(dir, 'out')).sort(), ['.k8s-img-bundle', 'sm1', 'sw1', 'sw2']);
    }
  });
});
