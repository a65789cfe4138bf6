// --help, --version, validate and plan must not load what only other commands
// need: the static import graph of the compiled files is checked (import() of a
// command module is dynamic and not followed).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { PACKAGE_ROOT } from '../../src/runtime/paths.js';

const DIST = join(PACKAGE_ROOT, 'dist', 'src');
const STATIC_IMPORT = /^\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm;

/** Every module (relative files and packages) reachable by static imports from `entry`. */
function staticGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(STATIC_IMPORT)) {
      const spec = m[1] ?? m[2]!;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else seen.add(spec);
    }
  };
  visit(join(DIST, entry));
  return seen;
}

const HEAVY = ['dockerode', '@peculiar/x509', 'reflect-metadata', 'tar-stream', 'handlebars'];

describe('lazy command loading', () => {
  for (const entry of ['cli/main.js', 'cli/commands/validate.js', 'cli/commands/plan.js']) {
    it(`${entry} does not load ${HEAVY.join(', ')}`, () => {
      const graph = staticGraph(entry);
      assert.ok(graph.size > 1, 'the graph was followed');
      assert.deepEqual(HEAVY.filter((h) => graph.has(h)), []);
    });
  }

  // generate with existing keys reads every certificate without the X.509 library and
  // never reaches a node: at 1 003 nodes these were a quarter of a second of its start-up.
  it('cli/commands/generate.js does not load the X.509 library, SSH or Docker', () => {
    const graph = staticGraph('cli/commands/generate.js');
    assert.ok(graph.has('handlebars'), 'the graph was followed');
    assert.deepEqual(['dockerode', '@peculiar/x509', 'reflect-metadata', 'tar-stream', 'ssh2'].filter((h) => graph.has(h)), []);
  });

  it('the graph check sees heavy modules where they are used', () => {
    assert.ok(staticGraph('cli/commands/up.js').has('dockerode'));
  });
});
