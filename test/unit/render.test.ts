import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import YAML from 'yaml';
import { planCluster } from '../../src/plan/plan.js';
import { renderBundles } from '../../src/render/bundle.js';
import { blockYaml, composeDocument, plainScalar } from '../../src/render/compose.js';
import { renderDiagram } from '../../src/render/diagram.js';
import { kubeBenchConfig } from '../../src/render/cis.js';
import { cisPlan } from '../../src/plan/cis.js';
import { loadTemplates } from '../../src/runtime/templates.js';
import { composeValidator } from '../helpers/compose-schema.js';
import { FIXTURES, fakeSecrets, fixtureFiles, loadFixture } from '../helpers/fixtures.js';

const templates = loadTemplates();

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

/** The files under `goldenDir` are exactly `actual` (UPDATE_GOLDEN=1 rewrites them). */
function matchesGolden(goldenDir: string, actual: Map<string, string>): void {
  if (process.env.UPDATE_GOLDEN) {
    rmSync(goldenDir, { recursive: true, force: true });
    for (const [p, content] of actual) {
      mkdirSync(dirname(join(goldenDir, p)), { recursive: true });
      writeFileSync(join(goldenDir, p), content);
    }
  }
  assert.ok(existsSync(goldenDir), `no golden files: run UPDATE_GOLDEN=1 npm run test:unit`);
  const expected = walk(goldenDir).map((f) => relative(goldenDir, f)).sort();
  assert.deepEqual([...actual.keys()].sort(), expected, 'the set of files changed');
  for (const p of expected) assert.equal(actual.get(p), readFileSync(join(goldenDir, p), 'utf8'), `${p} differs from its golden file`);
}

describe('compose.yaml writer', () => {
  it("writes exactly the YAML library's output for every node of every valid configuration", () => {
    let nodes = 0;
    for (const file of fixtureFiles('valid')) {
      const plan = planCluster(loadFixture(`valid/${file}`));
      for (const node of plan.nodes) {
        const doc = composeDocument(plan, node, Object.fromEntries(node.services.map((s) => [s.name, '0123456789abcdef'])));
        assert.equal(blockYaml(doc), YAML.stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false, version: '1.1' }), `${file}: ${node.name}`);
        nodes++;
      }
    }
    assert.ok(nodes > 10);
  });

  it('plainScalar: every string it passes, the library writes as it is', () => {
    const OPTIONS = { lineWidth: 0, aliasDuplicateObjects: false, version: '1.1' } as const;
    const writesPlain = (v: string) => YAML.stringify([v], OPTIONS) === `- ${v}\n` && YAML.stringify({ k: v }, OPTIONS) === `k: ${v}\n`;
    const from = (chars: string, maxLength = 12) => fc.string({ unit: fc.constantFrom(...chars), maxLength });
    // Near misses of each shape: YAML 1.1 numbers, words, timestamps and indicators mixed in.
    const tricky = ['', '-', '--', '---', '...', '.', ':', '=', '/', ' ', '#', ',', '@', '%', '?', 'e', 'E', '0b', '0x', '0', '1', '12', '.5', 'e5', '1e5',
      '_', '+', 'y', 'n', 'yes', 'No', 'on', 'OFF', 'null', '~', '<<', '.inf', '.nan', '2024-01-02', '1:30', 'a', 'f', 'w1', 'cp', '10.1.1.1', 'deadbeef'];
    const parts = fc.array(fc.oneof(fc.constantFrom(...tricky), from('0123456789abcdefxbe.-_:=/+ ', 6)), { maxLength: 6 }).map((a) => a.join(''));
    const samples = fc.oneof(
      parts,
      from('0123456789abcdef', 20), // hashes
      fc.tuple(fc.nat(999), fc.nat(999), fc.nat(999), fc.nat(999)).map((q) => q.join('.')), // dotted quads, also out of range
      from('ABCDEFYNOTabcdefynotwxz0123456789._-'), // names
      from('-=/.:,@+%_0123456789abcdefeExXbB'), // flags and paths
    );
    let passed = 0;
    fc.assert(
      fc.property(samples, (v) => {
        if (!plainScalar(v)) return;
        passed++;
        assert.ok(writesPlain(v), JSON.stringify(v));
      }),
      { numRuns: 20000, seed: 20261127 },
    );
    assert.ok(passed > 5000, `only ${passed} samples were plain: the generators miss the shapes`);
    for (const v of ['--name=cp1', '/etc/kubernetes', 'w999', 'cp-1.example', '10.1.0.1', '0123456789abcdef', 'k8s-img/etcd:v3.7.3']) assert.ok(plainScalar(v) && writesPlain(v), v);
    for (const v of ['e5', 'E12', 'yes', 'n', '0b101', '1e5', '12', '1.5', '1:30', '---=', '@a=b', 'a=b:', 'a b=c', '0bee', 'ebb']) assert.ok(!plainScalar(v), v);
  });

  it('leaves shapes it does not know to the library', () => {
    for (const doc of [{ a: [] }, { a: {} }, { a: null }, { a: [[1]] }, { a: 'two\nlines' }]) assert.equal(blockYaml(doc), undefined, JSON.stringify(doc));
    assert.equal(blockYaml({ a: ['no', 1, true, { b: 'x: y' }] }), YAML.stringify({ a: ['no', 1, true, { b: 'x: y' }] }, { lineWidth: 0, version: '1.1' }));
  });
});

describe('golden bundles for the tutorial topology', () => {
  for (const fixture of ['tutorial-simple', 'tutorial-secure']) {
    it(fixture, () => {
      const plan = planCluster(loadFixture(`valid/${fixture}.yaml`));
      const bundles = renderBundles(plan, templates, fakeSecrets(plan));
      const goldenDir = join(FIXTURES, 'golden', fixture);
      const actual = new Map<string, string>();
      for (const [node, files] of bundles) for (const f of files) actual.set(`${node}/${f.path}`, f.content);
      actual.set('plan.txt', renderDiagram(plan));
      // What `k8s-img cis` gives kube-bench on each node (bundles at the local-mode path).
      for (const p of cisPlan(plan, () => '/opt/k8s-img/bundle')) {
        const { config: _config, ...rest } = p;
        actual.set(`cis/${p.node}/config.yaml`, kubeBenchConfig(p));
        actual.set(`cis/${p.node}/plan.json`, `${JSON.stringify(rest, null, 2)}\n`);
      }
      matchesGolden(goldenDir, actual);
    });
  }
});

describe('golden: periodic etcd snapshots (etcd.snapshots)', () => {
  it('a service on each member only, with the member\'s own certificate; its compose entries and files', () => {
    const plan = planCluster(loadFixture('valid/etcd-snapshots.yaml'));
    const bundles = renderBundles(plan, templates, fakeSecrets(plan));
    const goldenDir = join(FIXTURES, 'golden', 'etcd-snapshots');
    const actual = new Map<string, string>();
    for (const [node, files] of bundles) {
      for (const f of files) if (f.path === 'compose.yaml' || f.path.startsWith('etcd-snapshots/')) actual.set(`${node}/${f.path}`, f.content);
    }
    matchesGolden(goldenDir, actual);
    // Members only; w3 has no etcd and no snapshot service or image.
    assert.deepEqual(plan.nodes.filter((n) => n.images.includes('etcd-snapshots')).map((n) => n.name), ['cp1', 'w1', 'w2']);
    const svc = plan.nodes[1]!.services.find((s) => s.name === 'etcd-snapshots')!;
    assert.deepEqual(svc.environment, { K8S_IMG_DIR: '/var/lib/k8s-img/etcd-snapshots', K8S_IMG_EVERY: '129600', K8S_IMG_KEEP: '7', K8S_IMG_KUBERNETES: '1.37.2' });
    assert.ok(svc.command.includes('--endpoints=https://192.168.232.11:2379'));
    assert.deepEqual(svc.privileges.capDrop, ['ALL']);
    assert.ok(svc.privileges.readOnlyRootfs);
    // Off by default: the tutorial has neither the service nor its image.
    assert.ok(planCluster(loadFixture('valid/tutorial-secure.yaml')).nodes.every((n) => !n.images.includes('etcd-snapshots')));
  });
});

describe('rendering is deterministic', () => {
  it('the same input gives byte-identical output', () => {
    const config = loadFixture('valid/tutorial-secure.yaml');
    const render = () => {
      const plan = planCluster(config);
      return JSON.stringify([...renderBundles(plan, loadTemplates(), fakeSecrets(plan))]);
    };
    assert.equal(render(), render());
  });
});

describe('every compose.yaml follows the Compose Specification', () => {
  const validate = composeValidator();
  for (const file of fixtureFiles('valid')) {
    it(file, () => {
      const plan = planCluster(loadFixture(`valid/${file}`));
      for (const [node, files] of renderBundles(plan, templates, fakeSecrets(plan))) {
        const compose = files.find((f) => f.path === 'compose.yaml')!;
        const doc = YAML.parse(compose.content);
        assert.deepEqual(validate(doc), [], `${node}/compose.yaml`);
        assert.equal(doc.version, undefined, 'no version: key (Compose Specification v2)');
        const services = Object.keys(doc.services);
        const hashes = Object.fromEntries(services.map((s) => [s, doc.services[s].labels['io.k8s-img.config-hash']]));
        assert.deepEqual(doc, JSON.parse(JSON.stringify(composeDocument(plan, plan.nodes.find((n) => n.name === node)!, hashes))));
      }
    });
  }
  it('the validator does reject a broken document', () => {
    assert.notDeepEqual(validate({ services: { a: { image: 'x', restart: 'always', network_mode: 5 } } }), []);
  });
});

describe('rendered component files parse', () => {
  it('YAML and JSON files are well-formed', () => {
    for (const fixture of ['tutorial-simple', 'tutorial-secure']) {
      const plan = planCluster(loadFixture(`valid/${fixture}.yaml`));
      for (const [node, files] of renderBundles(plan, templates, fakeSecrets(plan))) {
        for (const f of files) {
          if (f.path.endsWith('.json') || f.path.endsWith('.conflist')) assert.doesNotThrow(() => JSON.parse(f.content), `${node}/${f.path}`);
          if (f.path.endsWith('.yaml') || f.path.endsWith('kubeconfig')) {
            assert.doesNotThrow(() => YAML.parseAllDocuments(f.content).forEach((d) => { if (d.errors.length) throw d.errors[0]; }), `${node}/${f.path}`);
          }
        }
      }
    }
  });
});

describe('config hashes', () => {
  it('a changed file recreates exactly the services that mount it', () => {
    const plan = planCluster(loadFixture('valid/tutorial-simple.yaml'));
    const hashes = (secrets: Record<string, string>) => {
      const compose = renderBundles(plan, templates, secrets).get('sm1')!.find((f) => f.path === 'compose.yaml')!;
      const doc = YAML.parse(compose.content);
      return Object.fromEntries(Object.entries(doc.services as Record<string, { labels: Record<string, string> }>).map(([k, v]) => [k, v.labels['io.k8s-img.config-hash']]));
    };
    const before = hashes(fakeSecrets(plan));
    const after = hashes({ ...fakeSecrets(plan), 'sa.key': '-----ANOTHER KEY-----\n' });
    const changed = Object.keys(before).filter((k) => before[k] !== after[k]).sort();
    assert.deepEqual(changed, ['kube-apiserver', 'kube-controller-manager']);
  });
});
