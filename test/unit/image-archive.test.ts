// Image archives into the blob store: the node's platform picked from indexes,
// attestations left out, every digest and size checked, classic docker save archives
// converted, and only the blobs the chosen image needs stored.
import { scratchDir } from '../helpers/scratch.js';
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BuildError } from '../../src/errors.js';
import { readImageArchive } from '../../src/runtime/image-archive.js';
import { BlobStore } from '../../src/runtime/oci-export.js';
import { MEDIA, hostPlatform } from '../../src/runtime/oci-image.js';
import { Layout, classicArchive, digestOf, layerTar, named, writeArchive } from '../helpers/oci-layout.js';

const root = scratchDir('k8s-img-archive-');
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => new BlobStore(join(root, `store-${++n}`));
const file = (data: Buffer, gzip = false) => writeArchive(join(root, `a-${++n}.tar${gzip ? '.gz' : ''}`), data, gzip);
const amd64 = { os: 'linux', architecture: 'amd64' };
const arm64 = { os: 'linux', architecture: 'arm64', variant: 'v8' };
const stored = (s: BlobStore) => readdirSync(join(s.root, 'sha256')).length;
const fails = (re: RegExp) => (e: unknown) => e instanceof BuildError && re.test(e.message);

describe('image archives', () => {
  it('hostPlatform names Go architectures', () => {
    assert.deepEqual(hostPlatform('x64'), amd64);
    assert.deepEqual(hostPlatform('arm64'), { os: 'linux', architecture: 'arm64' });
  });

  it('a multi-platform OCI layout: the amd64 image is taken, the arm64 one and the attestations are not stored', async () => {
    const l = new Layout();
    const a = l.image(amd64, [await layerTar('base', 'shared'), await layerTar('app', 'amd64 app')]);
    const b = l.image(arm64, [await layerTar('base', 'arm base'), await layerTar('app', 'arm64 app')]);
    const top = named(l.index([a, l.attestation(a), b, l.attestation(b)]), 'docker.io/team/app:1.0');
    const store = fresh();
    const [img] = await readImageArchive(file(await l.tar([top]), true), store, amd64);
    assert.equal(img!.ref, 'docker.io/team/app:1.0');
    assert.equal(img!.manifest, a.digest);
    assert.equal(img!.mediaType, MEDIA.ociManifest);
    assert.deepEqual(img!.platform, amd64);
    assert.equal(img!.blobs.length, 3);
    for (const d of [a.digest, ...img!.blobs]) assert.ok(store.has(d), d);
    // manifest + config + 2 layers; nothing of arm64 or of the attestations
    assert.equal(stored(store), 4);
    assert.ok(!store.has(b.digest));
  });

  it('the same archive for an arm64 node takes the arm64 image', async () => {
    const l = new Layout();
    const a = l.image(amd64, [await layerTar('x', 'a')]);
    const b = l.image(arm64, [await layerTar('x', 'b')]);
    const [img] = await readImageArchive(file(await l.tar([named(l.index([a, b]), 'app:2')])), fresh(), { os: 'linux', architecture: 'arm64' });
    assert.equal(img!.manifest, b.digest);
  });

  it('an index without the nodes\' platform is refused, naming what it holds', async () => {
    const l = new Layout();
    const b = l.image(arm64, [await layerTar('x', 'b')]);
    await assert.rejects(readImageArchive(file(await l.tar([named(l.index([b, l.attestation(b)]), 'app:3')])), fresh(), amd64), fails(/app:3 has no image for linux\/amd64 .*it holds: linux\/arm64\/v8$/));
  });

  it('a single-platform image for another platform is refused', async () => {
    const l = new Layout();
    const b = l.image(arm64, [await layerTar('x', 'b')]);
    await assert.rejects(readImageArchive(file(await l.tar([named(b, 'app:4')])), fresh(), amd64), fails(/app:4 is a linux\/arm64\/v8 image; the nodes run linux\/amd64/));
  });

  it('a blob whose content does not match its digest is refused, and nothing of it is stored', async () => {
    const l = new Layout();
    const big = Buffer.alloc(5 * 1024 * 1024, 7); // streamed in the second pass
    const layer = await layerTar('big', big.toString('latin1'));
    const a = l.image(amd64, [layer]);
    const store = fresh();
    await assert.rejects(readImageArchive(file(await l.tar([named(a, 'app:5')], { damage: digestOf(layer) })), store, amd64), fails(/has digest sha256:/));
    assert.ok(!store.has(digestOf(layer)));
    // A damaged manifest (kept from the first pass) is caught there.
    const l2 = new Layout();
    const m = l2.image(amd64, [await layerTar('y', 'y')]);
    await assert.rejects(readImageArchive(file(await l2.tar([named(m, 'app:5')], { damage: m.digest })), fresh(), amd64), fails(/does not have the digest it is named by/));
  });

  it('a layer missing from the archive is refused', async () => {
    const l = new Layout();
    const layer = await layerTar('z', 'z');
    const a = l.image(amd64, [layer]);
    await assert.rejects(readImageArchive(file(await l.tar([named(a, 'app:6')], { skip: [digestOf(layer)] })), fresh(), amd64), fails(/layer sha256:\w+ is missing/));
  });

  it('names: all named images; an unnamed single image takes the name given; a name the archive lacks is refused', async () => {
    const l = new Layout();
    const a = l.image(amd64, [await layerTar('a', 'a')]);
    const b = l.image(amd64, [await layerTar('b', 'b')]);
    const two = file(await l.tar([named(a, 'docker.io/library/one:1'), named(b, 'docker.io/library/two:1')]));
    assert.deepEqual((await readImageArchive(two, fresh(), amd64)).map((i) => i.ref), ['docker.io/library/one:1', 'docker.io/library/two:1']);
    assert.deepEqual((await readImageArchive(two, fresh(), amd64, ['two:1'])).map((i) => [i.ref, i.manifest]), [['two:1', b.digest]]);
    await assert.rejects(readImageArchive(two, fresh(), amd64, ['three:1']), fails(/holds no image named three:1 \(it holds: docker\.io\/library\/one:1, docker\.io\/library\/two:1\)/));

    // buildx -o type=oci without a name: ref.name is only a tag
    const unnamed = file(await l.tar([{ ...a, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }]));
    await assert.rejects(readImageArchive(unnamed, fresh(), amd64), fails(/names no image/));
    const [img] = await readImageArchive(unnamed, fresh(), amd64, ['mine/app:7']);
    assert.deepEqual([img!.ref, img!.manifest], ['mine/app:7', a.digest]);
  });

  it('a classic docker save archive: layers checked against the config\'s diff IDs, shared layers through links, one manifest per image', async () => {
    const base = await layerTar('base', 'base layer');
    const archive = file(await classicArchive([
      { tags: ['old/one:1'], layers: [base, await layerTar('one', '1')] },
      { tags: ['old/two:1', 'old/two:latest'], layers: [base, await layerTar('two', '2')] },
    ]));
    const store = fresh();
    const images = await readImageArchive(archive, store, amd64);
    assert.deepEqual(images.map((i) => i.ref), ['old/one:1', 'old/two:1', 'old/two:latest']);
    for (const i of images) {
      const manifest = JSON.parse(store.read(i.manifest).toString()) as { config: { digest: string }; layers: { digest: string; mediaType: string }[] };
      assert.equal(manifest.config.digest, i.id);
      assert.equal(manifest.layers[0]!.digest, digestOf(base));
      assert.equal(manifest.layers[0]!.mediaType, MEDIA.ociLayer);
      for (const d of i.blobs) assert.ok(store.has(d));
    }
    // A layer that is not what the config says is refused.
    const bad = file(await classicArchive([{ tags: ['old/bad:1'], layers: [base] }]).then((b) => Buffer.from(b.toString('latin1').replace('base layer', 'BASE LAYER'), 'latin1')));
    await assert.rejects(readImageArchive(bad, fresh(), amd64), fails(/has digest/));
    await assert.rejects(readImageArchive(file(await classicArchive([{ tags: ['old/arm:1'], layers: [base], architecture: 'arm64' }])), fresh(), amd64), fails(/old\/arm:1 is a linux\/arm64 image/));
  });

  it('a second read of the same archive stores nothing new', async () => {
    const l = new Layout();
    const a = l.image(amd64, [await layerTar('a', 'again')]);
    const archive = file(await l.tar([named(a, 'again:1')]));
    const store = fresh();
    await readImageArchive(archive, store, amd64);
    const before = stored(store);
    await readImageArchive(archive, store, amd64);
    assert.equal(stored(store), before);
  });

  it('something that is not an image archive is refused with a hint', async () => {
    await assert.rejects(readImageArchive(file(Buffer.from('just text, not a tar')), fresh(), amd64), fails(/not a readable image archive|neither an OCI image layout/));
  });
});
