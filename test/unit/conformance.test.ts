// The conformance suite's recipes: built like the components, never by `k8s-img build`.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_RELEASE } from '../../src/config/versions.js';
import { conformanceGroups, testImagePrograms } from '../../src/conformance/recipes.js';
import { leftOutReason } from '../../src/conformance/left-out-images.js';
import { testImages } from '../../src/conformance/test-images.js';
import { groups, type GoRecipe } from '../../src/fetch/recipes.js';
import { PACKAGE_ROOT } from '../../src/runtime/paths.js';

describe('conformance suite recipes', () => {
  const [e2e, ginkgo] = conformanceGroups(DEFAULT_RELEASE);
  const kube = groups(DEFAULT_RELEASE, '0.0.0').find((g) => g.id === 'kubernetes')!.go as GoRecipe;

  it('e2e.test is a test binary of the components\' wrapper module, with their tags and version stamp', () => {
    const r = e2e!.go as GoRecipe<string>;
    assert.equal(r.test, true);
    assert.deepEqual(r.packages, [['k8s.io/kubernetes/test/e2e', 'e2e.test']]);
    for (const k of ['module', 'version', 'copyGodebug', 'tags', 'ldflags', 'cgo'] as const) assert.deepEqual(r[k], kube[k], k);
    assert.equal(String(r.localReplace), String(kube.localReplace));
    assert.ok(r.ldflags.includes(`-X k8s.io/component-base/version.gitVersion=v${DEFAULT_RELEASE.kubernetes}`));
  });

  it('ginkgo comes from the same module graph', () => {
    const r = ginkgo!.go as GoRecipe<string>;
    assert.equal(r.module, kube.module);
    assert.equal(r.version, kube.version);
    assert.deepEqual(r.packages, [['github.com/onsi/ginkgo/v2/ginkgo', 'ginkgo']]);
  });

  it('the cluster\'s groups do not include the suite', () => {
    const ids: string[] = groups(DEFAULT_RELEASE, '0.0.0').map((g) => g.id);
    assert.ok(!ids.includes('e2e') && !ids.includes('ginkgo'));
  });
});

describe('the test image table', () => {
  const table = testImages(DEFAULT_RELEASE)!;
  const programs = new Set<string>(testImagePrograms(DEFAULT_RELEASE, '0.0.0').flatMap((g) => g.binaries));

  it('names each image once, under a registry name e2e.test pulls', () => {
    const refs = table.map((t) => t.ref);
    assert.equal(new Set(refs).size, refs.length);
    for (const r of refs) assert.match(r, /^registry\.k8s\.io\/[\w./-]+:[\w.-]+$/);
    assert.deepEqual(refs.filter((r) => leftOutReason(r)), []);
  });

  it('has a recipe for every program, a file for every file entry, and bases built before their images', () => {
    table.forEach((t, i) => {
      for (const e of t.layout) {
        if ('program' in e) assert.ok(programs.has(e.program), `${t.ref}: ${e.program}`);
        if ('file' in e) assert.ok(existsSync(join(PACKAGE_ROOT, 'images', 'e2e', e.file)), `${t.ref}: ${e.file}`);
      }
      if (typeof t.base === 'object' && 'image' in t.base) {
        const base = t.base.image;
        assert.ok(table.slice(0, i).some((b) => b.ref === base), `${t.ref} is built on ${base}, listed after it`);
      }
      assert.ok(t.specs && t.builtFrom && t.description, t.ref);
    });
  });

  it('links agnhost\'s getent against musl, as upstream\'s Alpine agnhost resolves', () => {
    const getent = testImagePrograms(DEFAULT_RELEASE, '0.0.0').find((g) => g.binaries.includes('getent'))!;
    assert.equal(getent.go.kind === 'c' && getent.go.cc, 'musl-gcc');
    assert.ok(table[0]!.layout.some((e) => 'program' in e && e.program === 'getent' && e.to === '/usr/local/bin/getent'));
  });

  it('covers only the suite it was written for', () => {
    assert.equal(testImages({ ...DEFAULT_RELEASE, kubernetes: '1.36.3' }), undefined);
  });
});
