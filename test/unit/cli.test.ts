import { scratchDir } from '../helpers/scratch.js';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { replaceTree } from '../../src/runtime/files.js';
import { fileStampStore, stampsHold, treeDigest } from '../../src/runtime/tree-stamps.js';
import { runCli, runInProcess as cli } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/fixtures.js';

const tmp = () => scratchDir('k8s-img-test-');

describe('k8s-img CLI', () => {
  it('the bin shim runs the CLI in a real process: --help lists the commands', () => {
    const r = runCli(['--help']);
    assert.equal(r.code, 0);
    for (const c of ['init', 'validate', 'plan', 'generate']) assert.match(r.stdout, new RegExp(`k8s-img ${c}`));
  });

  it('an unknown command is a usage error (64)', async () => {
    const r = await cli(['frobnicate']);
    assert.equal(r.code, 64);
    assert.match(r.stderr, /Unknown argument|Unknown command/);
  });

  it('init writes a valid starter file and refuses to overwrite it', async () => {
    const dir = tmp();
    assert.equal((await cli(['init'], { cwd: dir })).code, 0);
    assert.equal((await cli(['validate'], { cwd: dir })).code, 0);
    const again = await cli(['init'], { cwd: dir });
    assert.equal(again.code, 64);
    assert.match(again.stderr, /already exists.*\nhint: pass --force/);
  });

  it('init --from-properties imports the tutorial files', async () => {
    const dir = tmp();
    const p = (ip: string) => `BIN_PATH=/opt/bin\nNODE_IP=${ip}\nETCD_ENDPOINTS=http://192.168.232.207:2379\nMASTER_IP=192.168.232.206\n`;
    ['206', '207', '208'].forEach((h) => writeFileSync(join(dir, `${h}.properties`), p(`192.168.232.${h}`)));
    const r = await cli(['init', '--from-properties', '206.properties', '207.properties', '208.properties'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const text = readFileSync(join(dir, 'cluster.yaml'), 'utf8');
    assert.match(text, /name: worker-1, address: 192\.168\.232\.207, roles: \[worker, etcd\]/);
    assert.match(text, /source: dir, dir: \/opt\/bin/);
  });

  it('an invalid config: every problem on stderr, exit 2, nothing written', async () => {
    const dir = tmp();
    const r = await cli(['generate', '-c', join(FIXTURES, 'invalid', 'many-problems.yaml'), '-o', join(dir, 'out')]);
    assert.equal(r.code, 2);
    assert.ok(r.stderr.split('\n').filter((l) => /^[\w.[\]]+: .*\(hint: /.test(l)).length >= 6, r.stderr);
    assert.match(r.stderr, /nothing was written/);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('a missing config file says how to make one', async () => {
    const r = await cli(['plan', '-c', '/nonexistent/cluster.yaml']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /file not found \(hint: create one with `k8s-img init`/);
  });

  it('plan draws the nodes and --json gives the whole plan', async () => {
    const cfg = join(FIXTURES, 'valid', 'tutorial-simple.yaml');
    const pic = await cli(['plan', '-c', cfg]);
    assert.equal(pic.code, 0);
    assert.match(pic.stdout, /┌─ sm1 {2}192\.168\.232\.206 {2}\[control-plane\]/);
    assert.match(pic.stderr, /simple mode/);
    const json = JSON.parse((await cli(['plan', '-c', cfg, '--json'])).stdout);
    assert.deepEqual(json.nodes.map((n: { name: string }) => n.name), ['sm1', 'sw1', 'sw2']);
  });

  it('generate writes one bundle per node, keys 0600, and keeps saved archives when regenerating', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'cluster.yaml'), readFileSync(join(FIXTURES, 'valid', 'tutorial-simple.yaml')));
    const r = await cli(['generate', '-o', 'out'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(join(dir, 'out')).sort(), ['.k8s-img-bundle', 'sm1', 'sw1', 'sw2']);
    for (const n of ['sm1', 'sw1', 'sw2']) assert.ok(existsSync(join(dir, 'out', n, 'compose.yaml')));
    assert.equal(statSync(join(dir, 'out', 'sm1', 'kube-apiserver', 'pki', 'sa.key')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, '.k8s-img', 'demo', 'sa.key')).mode & 0o777, 0o600);
    const key = readFileSync(join(dir, 'out', 'sm1', 'kube-apiserver', 'pki', 'sa.key'), 'utf8');
    writeFileSync(join(dir, 'out', 'sw1', 'images.tar'), 'archive');
    writeFileSync(join(dir, 'out', 'sw1', 'stray.txt'), 'x');
    assert.equal((await cli(['generate', '-o', 'out'], { cwd: dir })).code, 0);
    assert.equal(readFileSync(join(dir, 'out', 'sw1', 'images.tar'), 'utf8'), 'archive');
    assert.ok(!existsSync(join(dir, 'out', 'sw1', 'stray.txt')));
    assert.equal(readFileSync(join(dir, 'out', 'sm1', 'kube-apiserver', 'pki', 'sa.key'), 'utf8'), key, 'keys are reused');
  });
});

describe('atomic tree replacement', () => {
  it('a failure while writing leaves the old tree as it was', () => {
    const dir = join(tmp(), 'out');
    replaceTree(dir, [{ path: 'a/file', content: 'old', mode: 0o644 }]);
    // "a/file/x" cannot be created because a/file is a file: the write fails midway.
    assert.throws(() => replaceTree(dir, [{ path: 'b', content: 'new', mode: 0o644 }, { path: 'b/x', content: 'new', mode: 0o644 }]));
    assert.equal(readFileSync(join(dir, 'a', 'file'), 'utf8'), 'old');
    assert.deepEqual(readdirSync(dir), ['a']);
    assert.deepEqual(readdirSync(join(dir, '..')), ['out']);
  });

  // Without stamps (each check reads the tree back), and with stamps trusted at once (a
  // clock a minute ahead: nothing is too fresh to stamp), each change made a tick later.
  for (const withStamps of [false, true]) it(`an unchanged tree is left alone; any difference replaces it${withStamps ? ' (stamps)' : ''}`, () => {
    const dir = join(tmp(), 'out');
    const files = [
      { path: 'n/a', content: 'one', mode: 0o644 },
      { path: 'n/s/key', content: 'secret', mode: 0o600 },
      { path: 'n/s/utf8', content: 'grüße €', mode: 0o644 },
      { path: 'n/bytes', content: Buffer.from([0, 1, 2, 255]), mode: 0o644 },
      { path: 'marker', content: 'm', mode: 0o644 },
    ];
    const store = withStamps ? fileStampStore(join(dir, '..', 'stamps'), () => Date.now() + 60_000) : undefined;
    const replace_ = () => replaceTree(dir, files, ['n/images.tar'], store);
    replace_();
    writeFileSync(join(dir, 'n', 'images.tar'), 'keep');
    const inode = (p: string) => statSync(join(dir, p)).ino;
    const before = [inode('.'), inode('n/a'), inode('n/s/key')];
    assert.equal(replace_(), false);
    assert.deepEqual([inode('.'), inode('n/a'), inode('n/s/key')], before, 'nothing rewritten');
    // a stray file, changed bytes, a changed mode, a missing file, something else in a
    // file's place (a link to the same bytes, a folder, a FIFO, which must not block): each
    // makes a new tree
    const replace = (p: string, by: (path: string) => void) => {
      rmSync(join(dir, p), { recursive: true });
      by(join(dir, p));
    };
    for (const change of [
      () => writeFileSync(join(dir, 'n', 'stray'), 'x'),
      () => writeFileSync(join(dir, 'n', 'a'), 'two'),
      () => writeFileSync(join(dir, 'n', 'a'), 'one\n'),
      () => writeFileSync(join(dir, 'n', 's', 'utf8'), 'grüsse €'),
      () => writeFileSync(join(dir, 'n', 'bytes'), Buffer.from([0, 1, 2, 254])),
      () => chmodSync(join(dir, 'n', 's', 'key'), 0o644),
      () => chmodSync(join(dir, 'n', 's'), 0o700),
      () => rmSync(join(dir, 'n', 's', 'key')),
      () => replace('n/a', (p) => {
        writeFileSync(`${p}.real`, 'one');
        symlinkSync(`${p}.real`, p);
      }),
      () => replace('n/a', (p) => mkdirSync(p)),
      () => replace('n/a', (p) => execFileSync('mkfifo', [p])),
      () => replace('n/s', (p) => writeFileSync(p, 'x')),
    ]) {
      const digest = treeDigest(dir, files, ['n/images.tar'], process.umask());
      if (store) {
        assert.equal(replace_(), false); // stamps the tree as it is
        assert.equal(stampsHold(dir, store, digest!), true);
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20); // the kernel's clock ticks
      }
      change();
      if (store) assert.equal(stampsHold(dir, store, digest!), false, 'the stamps see the change');
      const root = inode('.');
      assert.equal(replace_(), true);
      assert.notEqual(inode('.'), root);
      assert.deepEqual(readdirSync(join(dir, 'n')).sort(), ['a', 'bytes', 'images.tar', 's']);
      assert.equal(readFileSync(join(dir, 'n', 'a'), 'utf8'), 'one');
      assert.equal(readFileSync(join(dir, 'n', 's', 'utf8'), 'utf8'), 'grüße €');
      assert.deepEqual(readFileSync(join(dir, 'n', 'bytes')), Buffer.from([0, 1, 2, 255]));
      assert.equal(statSync(join(dir, 'n', 's', 'key')).mode & 0o777, 0o600);
      assert.equal(statSync(join(dir, 'n', 's')).mode & 0o777, 0o755 & ~process.umask());
      assert.equal(readFileSync(join(dir, 'n', 'images.tar'), 'utf8'), 'keep');
    }
  });

  it('carried-over files survive a failed write', () => {
    const dir = join(tmp(), 'out');
    mkdirSync(join(dir, 'n'), { recursive: true });
    writeFileSync(join(dir, 'n', 'images.tar'), 'keep');
    assert.throws(() => replaceTree(dir, [{ path: 'n/c', content: '1', mode: 0o644 }, { path: 'n/c/d', content: '2', mode: 0o644 }], ['n/images.tar']));
    assert.equal(readFileSync(join(dir, 'n', 'images.tar'), 'utf8'), 'keep');
  });
});
