// Shared test inputs: fixture paths, a tutorial config, deterministic secrets.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseClusterConfig } from '../../src/config/load.js';
import type { ResolvedConfig } from '../../src/config/defaults.js';
import type { ClusterPlan } from '../../src/plan/types.js';
import { PACKAGE_ROOT } from '../../src/runtime/paths.js';

export const FIXTURES = join(PACKAGE_ROOT, 'test', 'fixtures');

export function fixtureFiles(dir: string): string[] {
  return readdirSync(join(FIXTURES, dir)).filter((f) => f.endsWith('.yaml')).sort();
}

export function readFixture(rel: string): string {
  return readFileSync(join(FIXTURES, rel), 'utf8');
}

export function loadFixture(rel: string): ResolvedConfig {
  return parseClusterConfig(readFixture(rel), rel).config;
}

/** Stand-ins for keys and certificates: render only copies them, so their bytes do not matter. */
export function fakeSecrets(plan: ClusterPlan): Record<string, string> {
  return Object.fromEntries(plan.secrets.map((s) => [s, s === 'encryption.key' ? 'ZmFrZS1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcy0hISE=' : `-----FAKE ${s}-----\n`]));
}
