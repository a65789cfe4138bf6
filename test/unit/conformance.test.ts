// The conformance suite's recipes: built like the components, never by `k8s-img build`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_RELEASE } from '../../src/config/versions.js';
import { conformanceGroups } from '../../src/conformance/recipes.js';
import { groups, type GoRecipe } from '../../src/fetch/recipes.js';

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
