// The cluster registry's pure parts: how image names map to its storage, and the
// storage layout distribution's filesystem driver reads.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { parseImageName } from '../../src/plan/image-name.js';
import { registryTree } from '../../src/render/registry-tree.js';

describe('image names, as containerd normalises them', () => {
  const cases: [string, string, string, string][] = [
    ['busybox', 'docker.io', 'library/busybox', 'latest'],
    ['k8s-img/pause:3.10.2', 'docker.io', 'k8s-img/pause', '3.10.2'],
    ['docker.io/busybox:1.37', 'docker.io', 'library/busybox', '1.37'],
    ['registry.k8s.io/e2e-test-images/agnhost:2.66.1', 'registry.k8s.io', 'e2e-test-images/agnhost', '2.66.1'],
    ['localhost:5000/app', 'localhost:5000', 'app', 'latest'],
    ['my.reg:8443/team/app:v1', 'my.reg:8443', 'team/app', 'v1'],
  ];
  for (const [ref, host, repository, tag] of cases) {
    it(ref, () => assert.deepEqual(parseImageName(ref), { host, repository, tag }));
  }
  for (const bad of ['Upper/case', 'app@sha256:0123', 'a//b', 'app:', 'app:-x']) {
    it(`refuses ${bad}`, () => assert.equal(parseImageName(bad), undefined));
  }
});

describe('registry storage', () => {
  const d = (c: string) => `sha256:${c.repeat(64)}`;
  const img = (ref: string, repository: string, tag: string, manifest: string, blobs: string[]) => ({ ref, repository, tag, manifest, blobs });

  it('lays out blobs, layer links, revisions and tags as distribution reads them', () => {
    const files = registryTree([img('k8s-img/pause:3.10.2', 'k8s-img/pause', '3.10.2', d('a'), [d('b'), d('c')])]);
    const paths = files.map((f) => f.path);
    const repo = 'docker/registry/v2/repositories/k8s-img/pause';
    assert.deepEqual(paths, [
      `docker/registry/v2/blobs/sha256/aa/${'a'.repeat(64)}/data`,
      `docker/registry/v2/blobs/sha256/bb/${'b'.repeat(64)}/data`,
      `docker/registry/v2/blobs/sha256/cc/${'c'.repeat(64)}/data`,
      `${repo}/_layers/sha256/${'b'.repeat(64)}/link`,
      `${repo}/_layers/sha256/${'c'.repeat(64)}/link`,
      `${repo}/_manifests/revisions/sha256/${'a'.repeat(64)}/link`,
      `${repo}/_manifests/tags/3.10.2/current/link`,
      `${repo}/_manifests/tags/3.10.2/index/sha256/${'a'.repeat(64)}/link`,
    ]);
    const current = files.find((f) => f.path.endsWith('current/link'));
    assert.deepEqual(current, { path: `${repo}/_manifests/tags/3.10.2/current/link`, content: d('a') });
    assert.ok(files.filter((f) => f.path.endsWith('/data')).every((f) => 'blob' in f));
  });

  it('shares blobs between repositories and writes each once', () => {
    const files = registryTree([img('a:1', 'library/a', '1', d('a'), [d('c')]), img('b:1', 'library/b', '1', d('b'), [d('c')])]);
    assert.equal(files.filter((f) => f.path.includes(`/${'c'.repeat(64)}/data`)).length, 1);
  });

  it('refuses two different images at one place (one mirror serves every registry name)', () => {
    assert.throws(
      () => registryTree([img('docker.io/pause:1', 'library/pause', '1', d('a'), []), img('pause:1', 'library/pause', '1', d('b'), [])]),
      (e: unknown) => e instanceof ConfigError && /docker\.io\/pause:1 and pause:1 are both library\/pause:1/.test(e.problems[0]!.message),
    );
  });
});
