// tree-stamps.ts: when stamps are trusted instead of reading a tree back, and when not.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { replaceTree } from '../../src/runtime/files.js';
import { RACY_MS, fileStampStore, stampsHold, treeDigest } from '../../src/runtime/tree-stamps.js';
import { scratchDir } from '../helpers/scratch.js';

const files = [
  { path: 'n/a', content: 'one', mode: 0o644 },
  { path: 'n/s/key', content: 'secret', mode: 0o600 },
];
const KEEP = ['n/images.tar'];
const later = () => Date.now() + 60_000;

function setup(now: () => number = later) {
  const base = scratchDir('k8s-img-stamps-');
  const dir = join(base, 'out');
  const store = fileStampStore(join(base, 'stamps'), now);
  replaceTree(dir, files, KEEP, store); // written: no stamps yet
  const digest = (f = files) => treeDigest(dir, f, KEEP, process.umask())!;
  return { dir, store, digest, base };
}

describe('tree stamps', () => {
  it('a tree changed less than RACY_MS before its check is never stamped; an older one is, and then trusted', () => {
    const { dir, store, digest } = setup(Date.now);
    assert.equal(store.load(), '', 'cleared when the tree was written');
    assert.equal(replaceTree(dir, files, KEEP, store), false);
    assert.equal(store.load(), '', 'the files are too fresh to stamp');
    const old = fileStampStore(join(dir, '..', 'stamps'), () => Date.now() + RACY_MS + 1_000);
    assert.equal(replaceTree(dir, files, KEEP, old), false);
    assert.match(old.load()!, /^k8s-img tree stamps 1\n[0-9a-f]{64}\n/);
    assert.equal(stampsHold(dir, old, digest()), true);
  });

  it('stamps are for one wanted tree in one folder: other contents, modes or kept paths are not vouched for', () => {
    const { dir, store, digest } = setup();
    replaceTree(dir, files, KEEP, store);
    assert.equal(stampsHold(dir, store, digest()), true);
    assert.equal(stampsHold(dir, store, digest([{ ...files[0]!, content: 'two' }, files[1]!])), false);
    assert.equal(stampsHold(dir, store, digest([{ ...files[0]!, mode: 0o600 }, files[1]!])), false);
    assert.equal(stampsHold(dir, store, treeDigest(dir, files, [], process.umask())!), false);
    assert.equal(stampsHold(`${dir}/.`, store, treeDigest(`${dir}/.`, files, KEEP, process.umask())!), false);
  });

  it('a kept file added later: the stamps no longer hold, the tree is still unchanged and stamped again', () => {
    const { dir, store, digest } = setup();
    replaceTree(dir, files, KEEP, store);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    writeFileSync(join(dir, 'n', 'images.tar'), 'archive');
    assert.equal(stampsHold(dir, store, digest()), false);
    const ino = statSync(join(dir, 'n', 'a')).ino;
    assert.equal(replaceTree(dir, files, KEEP, store), false);
    assert.equal(statSync(join(dir, 'n', 'a')).ino, ino);
    assert.equal(stampsHold(dir, store, digest()), true);
  });

  it('a damaged stamps file, or a link in its place, is no stamps: the tree is read back', () => {
    const { dir, store, digest, base } = setup();
    for (const damage of [
      (t: string) => t.replace(/^[0-9a-f]{64}$/m, 'not a digest'),
      (t: string) => t.replace(/ n\/a$/m, ' n/b'), // an entry that is not there
      (t: string) => t.replace(/^(\d+ \d+ \d+ )\d+/m, '$10'), // another size
      (t: string) => t.slice(0, -1), // cut short
      () => '\0'.repeat(100),
    ]) {
      replaceTree(dir, files, KEEP, store); // stamped
      writeFileSync(join(base, 'stamps'), damage(readFileSync(join(base, 'stamps'), 'utf8')));
      assert.equal(stampsHold(dir, store, digest()), false);
      assert.equal(replaceTree(dir, files, KEEP, store), false, 'read back: unchanged');
      assert.equal(stampsHold(dir, store, digest()), true, 'and stamped again');
    }
    symlinkSync(join(base, 'stamps'), join(base, 'link'));
    assert.equal(fileStampStore(join(base, 'link'), later).load(), undefined);
  });
});

describe('tree stamps that cannot be saved', () => {
  it('a folder in the stamps file\'s place: generate goes on, reading the tree back each time', () => {
    const base = scratchDir('k8s-img-stamps-');
    const dir = join(base, 'out');
    mkdirSync(join(base, 'stamps', 'x'), { recursive: true });
    const store = fileStampStore(join(base, 'stamps'), later);
    assert.equal(replaceTree(dir, files, KEEP, store), true);
    assert.equal(replaceTree(dir, files, KEEP, store), false);
    assert.equal(store.load(), undefined);
    assert.equal(readFileSync(join(dir, 'n', 'a'), 'utf8'), 'one');
  });
});
