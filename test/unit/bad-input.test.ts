// The bad-input corpus: every case exits with its code and message, prints no
// internal error, stack trace or library wording, and leaves its folder
// byte-identical with no temporary folder (unless the case says it writes).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { trackedTemps } from '../../src/runtime/temp-cleanup.js';
import { BAD_INPUT, NEVER, prepareCase, runCase, snapshot, type BadInputCase } from '../helpers/bad-input.js';

const files = readdirSync(BAD_INPUT).filter((f) => f.endsWith('.yaml')).sort();
let total = 0;

for (const file of files) {
  const cases = YAML.parse(readFileSync(join(BAD_INPUT, file), 'utf8')) as BadInputCase[];
  total += cases.length;
  describe(`bad input: ${file}`, () => {
    for (const c of cases) {
      it(c.name, async () => {
        const dir = await prepareCase(c);
        const before = snapshot(dir);
        const started = Date.now();
        const r = await runCase(c, dir);
        const output = `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
        assert.equal(r.code, c.exit, output);
        assert.match(r.stderr, new RegExp(c.stderr), output);
        for (const bad of NEVER) assert.doesNotMatch(r.stdout + r.stderr, bad, output);
        assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
        if (!c.writes) assert.deepEqual(snapshot(dir), before, 'the case folder changed');
        assert.deepEqual(trackedTemps(), [], 'a temporary path is still tracked');
      });
    }
  });
}

describe('bad-input corpus', () => {
  it('holds at least 100 cases', () => {
    assert.ok(total >= 100, `${total} cases`);
  });
});
