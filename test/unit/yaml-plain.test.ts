// yaml-plain.ts reads cluster.yaml without the YAML library when the file is in its
// subset: whatever it reads must be exactly what the library reads, with no error or
// warning from the library; whatever else it must leave to the library (undefined).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import YAML from 'yaml';
import { readPlainYaml } from '../../src/config/yaml-plain.js';
import { plainScalarValue } from '../../src/config/yaml-text.js';
import { starterText } from '../../src/config/starter.js';
import { TUTORIAL_TOPOLOGY } from '../../src/config/tutorial.js';
import { FIXTURES, fixtureFiles } from '../helpers/fixtures.js';

const OPTIONS = { uniqueKeys: true, prettyErrors: true, merge: false, strict: true } as const;

/** The library's reading, or undefined when it reports any error or warning. */
function library(text: string): unknown {
  let doc: YAML.Document.Parsed;
  try {
    doc = YAML.parseDocument(text, OPTIONS);
  } catch {
    return undefined;
  }
  if (doc.errors.length > 0 || doc.warnings.length > 0) return undefined;
  let aliases = false;
  YAML.visit(doc, { Alias: () => void (aliases = true) });
  return aliases ? undefined : doc.toJS();
}

/** Read here: true; left to the library: false. Throws when the two would differ. */
function check(text: string): boolean {
  const plain = readPlainYaml(text, plainScalarValue);
  if (plain === undefined) return false;
  const lib = library(text);
  assert.ok(lib !== undefined, `read here, but the library reports a problem:\n${text}`);
  assert.ok(isDeepStrictEqual(plain, lib), `read differently:\n${text}\nhere: ${JSON.stringify(plain)}\nlibrary: ${JSON.stringify(lib)}`);
  return true;
}

const scaleFile = (workers: number) => {
  const nodes = [1, 2, 3].map((i) => `  - { name: cp${i}, address: 10.1.0.${i}, roles: [control-plane, etcd] }`);
  for (let i = 0; i < workers; i++) nodes.push(`  - { name: w${i}, address: 10.1.${1 + Math.floor(i / 250)}.${(i % 250) + 1}, roles: [worker] }`);
  return `apiVersion: k8s-img/v1alpha1\nkind: Cluster\nname: scale\nsecurity: { mode: secure }\nnodes:\n${nodes.join('\n')}\n`;
};

describe('cluster.yaml without the YAML library', () => {
  it('reads every configuration of the tests, the starter file and a 1 000-node file as the library does', () => {
    for (const dir of ['valid', 'invalid']) {
      for (const f of fixtureFiles(dir)) {
        const text = readFileSync(join(FIXTURES, dir, f), 'utf8');
        const read = check(text);
        if (dir === 'valid') assert.ok(read, `${f} is left to the library`);
      }
    }
    assert.ok(check(starterText(TUTORIAL_TOPOLOGY, 'cluster.yaml')), 'the starter file');
    assert.ok(check(scaleFile(1000)), 'the 1 003-node file');
  });

  it('leaves what it does not read to the library', () => {
    for (const text of [
      'a: &x 1\nb: *x\n', // anchors and aliases
      'a: !!str 1\n', // tags
      'a: |\n  text\n', // block scalars
      'a: "x\\ty"\n', // escapes
      'a: one\n  two\n', // a plain scalar over two lines
      'a:\n\tb: 1\n', // tabs
      'a: 1\na: 2\n', // a duplicate key
      '---\na: 1\n', // document markers
      'a: [1,\n  2]\n', // a flow collection over two lines
      'true: 1\n', // a key that is not a string
      '- a\n', // not a mapping
      'a: b: c\n',
      'a: [b, ]\n',
      '"a": 1\n',
      'a: 1\r\nb: 2\r\n',
      'a:\n\u00a0 b: 1\n', // a no-break space is not indentation
      'a: b\u2028c: d\n',
    ]) {
      assert.equal(readPlainYaml(text, plainScalarValue), undefined, JSON.stringify(text));
    }
  });

  // Configuration-like documents in the layouts people write, with comments: mostly
  // values and keys in the subset, some outside it (quotes, indicators, numbers, words).
  const plainWord = fc.constantFrom('sm1', 'worker', 'control-plane', '10.0.0.1', '192.168.1.0/24', '20000-40000', 'k8s-img/etcd:v3.7.3', 'http://x:1/a', '1.37.2', 'a#b', 'a b', '-x', 'x-', '.hidden', '(x)', 'a,b', 'a[b]', 'yes', 'no', 'on', 'y', '~');
  const oddWord = fc.constantFrom('true', 'False', 'null', '1.37', '0x1F', '0o17', '012', '1e3', '.inf', '-.5', '+1', '-1', "it's", 'say "hi"', 'é', '', ' lead', 'trail ', 'a: b', '#x', '@x', '%x', '*x', '&x', '!x', '|', '>', '?x', '-', ':x', 'x:');
  const scalar = fc.oneof(
    { arbitrary: plainWord, weight: 12 },
    { arbitrary: fc.integer({ min: -70000, max: 70000 }), weight: 3 },
    { arbitrary: fc.boolean(), weight: 1 },
    { arbitrary: fc.constant(null), weight: 1 },
    { arbitrary: oddWord, weight: 2 },
    { arbitrary: fc.string({ maxLength: 6 }), weight: 1 },
    { arbitrary: fc.double({ noNaN: true }), weight: 1 },
  );
  const key = fc.oneof(
    { arbitrary: fc.constantFrom('name', 'address', 'roles', 'nodes', 'mtu', 'backend', 'ssh', 'user', 'a.b', 'x-y', 'k_8', 'Yes'), weight: 20 },
    { arbitrary: fc.constantFrom('true', 'null', '1', '_x', 'a b', '__proto__'), weight: 1 },
    { arbitrary: fc.string({ maxLength: 4 }), weight: 1 },
  );
  const value = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('list'), tie('map')),
    list: fc.array(tie('node'), { maxLength: 4 }),
    map: fc.dictionary(key, tie('node'), { maxKeys: 4 }),
  })).map;
  const doc = fc.dictionary(key, value, { minKeys: 1, maxKeys: 5 });
  const flowLine = (v: unknown) => YAML.stringify(v, { collectionStyle: 'flow', lineWidth: 0 }).trimEnd();
  const layouts: ((d: Record<string, unknown>) => string)[] = [
    (d) => YAML.stringify(d),
    (d) => YAML.stringify(d, { indentSeq: false, indent: 4 }),
    (d) => YAML.stringify(d, { flowCollectionPadding: false, defaultStringType: 'QUOTE_SINGLE', defaultKeyType: 'PLAIN' }),
    (d) => YAML.stringify(d, { defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN' }),
    (d) => YAML.stringify(d, { collectionStyle: 'flow' }), // flow at the top: the library's
    // block at the top, one-line flow below (the 1 003-node file's layout)
    (d) => Object.entries(d).map(([k, v]) => (Array.isArray(v) ? `${k}:\n${v.map((x) => `  - ${flowLine(x)}\n`).join('')}` : `${k}: ${flowLine(v)}\n`)).join(''),
  ];
  const withComments = (text: string, seed: number) =>
    text
      .split('\n')
      .map((l, i) => ((i * 7 + seed) % 5 === 0 ? `${l} # note ${i}` : (i * 3 + seed) % 7 === 0 ? `# about ${i}\n${l}` : l))
      .join('\n');

  it('random configurations in every layout: read as the library reads them, or left to it', () => {
    let read = 0;
    fc.assert(
      fc.property(doc, fc.nat(layouts.length - 1), fc.nat(20), (d, layout, seed) => {
        let text: string;
        try {
          text = layouts[layout]!(d);
        } catch {
          return;
        }
        if (check(text)) read++;
        if (check(withComments(text, seed))) read++;
      }),
      { numRuns: 3000, seed: 20261127 },
    );
    assert.ok(read > 1000, `only ${read} of 6000 documents were read here: the generator misses the subset`);
  });

  it('random edits of real files: read as the library reads them, or left to it', () => {
    const texts = [...fixtureFiles('valid').map((f) => readFileSync(join(FIXTURES, 'valid', f), 'utf8')), starterText(TUTORIAL_TOPOLOGY, 'cluster.yaml'), scaleFile(3)];
    const edit = fc.record({
      at: fc.nat(),
      cut: fc.nat(3),
      put: fc.constantFrom('', ' ', '  ', '\n', '\n  ', ':', ': ', '-', '- ', '#', ' #', ',', '[', ']', '{', '}', '"', "'", '&a', '*a', '!', '|', '>', '?', '%', '@', '\t', 'x', '1', '.', '~', 'null', 'true', '\\', 'é', '\u00a0', '\u3000', '\r'),
    });
    let read = 0;
    fc.assert(
      fc.property(fc.nat(texts.length - 1), fc.array(edit, { minLength: 1, maxLength: 3 }), (t, edits) => {
        let text = texts[t]!;
        for (const e of edits) {
          const at = e.at % (text.length + 1);
          text = text.slice(0, at) + e.put + text.slice(at + e.cut);
        }
        if (check(text)) read++;
      }),
      { numRuns: 4000, seed: 20261127 },
    );
    assert.ok(read > 1000, `only ${read} of 4000 edited files were read here`);
  });
});
