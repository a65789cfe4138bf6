// The JSON Schema for editors: generated from the zod schema, every field described,
// the package's file current, and it agrees with the loader on real configurations.
import { scratchDir } from '../helpers/scratch.js';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { clusterJsonSchema } from '../../src/config/json-schema.js';
import { PACKAGE_ROOT } from '../../src/runtime/paths.js';
import { runInProcess as cli } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/fixtures.js';

type S = { type?: string; properties?: Record<string, S>; items?: S; required?: string[]; additionalProperties?: boolean; enum?: unknown[]; const?: unknown; description?: string; default?: unknown; minItems?: number };

/** A small checker of the keywords the schema uses: enough to hold the fixtures against it. */
function check(s: S, v: unknown, path = ''): string[] {
  if (s.const !== undefined) return v === s.const ? [] : [`${path}: not ${String(s.const)}`];
  if (s.enum) return s.enum.includes(v) ? [] : [`${path}: not one of ${s.enum.join(', ')}`];
  if (s.type === 'string') return typeof v === 'string' ? [] : [`${path}: not a string`];
  if (s.type === 'number') return typeof v === 'number' ? [] : [`${path}: not a number`];
  if (s.type === 'array') return Array.isArray(v) && v.length >= (s.minItems ?? 0) ? v.flatMap((x, i) => check(s.items!, x, `${path}[${i}]`)) : [`${path}: not a list`];
  if (s.type === 'object') {
    if (typeof v !== 'object' || v === null) return [`${path}: not a mapping`];
    const o = v as Record<string, unknown>;
    return [
      ...(s.required ?? []).filter((k) => !(k in o)).map((k) => `${path}.${k}: missing`),
      ...Object.entries(o).flatMap(([k, x]) => (s.properties?.[k] ? check(s.properties[k]!, x, `${path}.${k}`) : [`${path}.${k}: unknown`])),
    ];
  }
  return [];
}

describe('JSON Schema of cluster.yaml', () => {
  const schema = clusterJsonSchema() as S;

  it('the package file schema/cluster.schema.json is the generated schema (npm run build && k8s-img schema > schema/cluster.schema.json)', () => {
    assert.deepEqual(JSON.parse(readFileSync(join(PACKAGE_ROOT, 'schema', 'cluster.schema.json'), 'utf8')), schema);
  });

  it('k8s-img schema prints it', async () => {
    const r = await cli(['schema']);
    assert.equal(r.code, 0);
    assert.deepEqual(JSON.parse(r.stdout), schema);
  });

  it('every field has a description; unknown keys are refused; defaults are given', () => {
    const walk = (s: S, path: string): void => {
      assert.ok(s.description, `${path} has a description`);
      for (const o of [s, s.items].filter((x): x is S => Boolean(x?.properties))) {
        assert.equal(o.additionalProperties, false, `${path}: unknown keys refused`);
        for (const [k, v] of Object.entries(o.properties!)) walk(v, `${path}.${k}`);
      }
    };
    walk(schema, '');
    assert.equal(schema.properties!.networking!.properties!.podCIDR!.default, '172.20.0.0/16');
    assert.equal(schema.properties!.security!.properties!.mode!.default, 'secure');
  });

  it('every valid fixture passes it; a misspelt key and a wrong enum do not', () => {
    for (const f of readdirSync(join(FIXTURES, 'valid'))) {
      assert.deepEqual(check(schema, YAML.parse(readFileSync(join(FIXTURES, 'valid', f), 'utf8'))), [], f);
    }
    const c = YAML.parse(readFileSync(join(FIXTURES, 'valid', 'tutorial-secure.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
    assert.deepEqual(check(schema, { ...c, networking: { podCidr: '1.2.3.0/24' } }), ['.networking.podCidr: unknown']);
    assert.deepEqual(check(schema, { ...c, security: { mode: 'open' } }), ['.security.mode: not one of secure, simple']);
  });

  it("init writes yaml-language-server's $schema line pointing at the package's file", async () => {
    const dir = scratchDir('k8s-img-schema-');
    assert.equal((await cli(['init'], { cwd: dir })).code, 0);
    const first = readFileSync(join(dir, 'cluster.yaml'), 'utf8').split('\n')[0]!;
    assert.equal(first, `# yaml-language-server: $schema=${join(PACKAGE_ROOT, 'schema', 'cluster.schema.json')}`);
  });
});
