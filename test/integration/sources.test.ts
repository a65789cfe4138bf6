// Issue 3, binaries.source: release (a mirror made from the go build, served over
// HTTP; checksums enforced) and dir (the tutorial's BIN_PATH, versions checked).
import assert from 'node:assert/strict';
import { copyFileSync, createReadStream, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ResolvedConfig } from '../../src/config/defaults.js';
import { FetchError } from '../../src/errors.js';
import type { GroupId } from '../../src/fetch/recipes.js';
import { exportMirror, fetchBinaries, type FetchedBinaries } from '../../src/pipeline/fetch.js';
import { silentReporter } from '../../src/pipeline/progress.js';
import { BinaryCache } from '../../src/runtime/bincache.js';
import { GoToolchain } from '../../src/runtime/gotool.js';
import { cacheDir } from '../../src/runtime/paths.js';
import { fixtureConfig } from './harness.js';
import { scratchDir } from '../helpers/scratch.js';

// Small groups keep the archives quick to make; the code path is the same for all
// (runc: upstream publishes a bare binary, not an archive).
const GROUPS: GroupId[] = ['etcd', 'cni-plugins', 'pause', 'runc'];
const base = fixtureConfig('tutorial-simple.yaml');
const go = new GoToolchain();
let built: FetchedBinaries;
let mirror: string;
let server: Server;
let url: string;

const withSource = (binaries: Partial<ResolvedConfig['binaries']>): ResolvedConfig => ({ ...base, binaries: { ...base.binaries, ...binaries } });

before(async () => {
  built = await fetchBinaries({ config: base, cache: new BinaryCache(cacheDir()), go, reporter: silentReporter }, GROUPS);
  mirror = scratchDir('k8s-img-mirror-');
  await exportMirror(base, built, mirror, silentReporter, GROUPS);
  server = createServer((req, res) => {
    const file = join(mirror, decodeURIComponent(new URL(req.url!, 'http://x').pathname));
    if (!file.startsWith(mirror) || !existsSync(file) || statSync(file).isDirectory()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Length': statSync(file).size });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => server?.close());

describe('binaries.source: release', () => {
  it('downloads the archives, checks their published checksums and yields the same binaries', async () => {
    const cache = new BinaryCache(scratchDir('k8s-img-cache-'));
    const got = await fetchBinaries({ config: withSource({ source: 'release', releaseURL: url }), cache, go, reporter: silentReporter }, GROUPS);
    for (const b of ['etcd', 'etcdctl', 'etcdutl', 'loopback', 'portmap', 'bandwidth', 'host-local', 'pause', 'runc'] as const) {
      assert.equal(got[b].sha256, built[b].sha256, b);
      assert.equal(got[b].source, 'release');
    }
    const again = Date.now();
    await fetchBinaries({ config: withSource({ source: 'release', releaseURL: url }), cache, go, reporter: silentReporter }, GROUPS);
    assert.ok(Date.now() - again < 2000, 'a second fetch is served from the cache');
  });

  it('a tampered byte fails with a clear error and leaves nothing in the cache', async () => {
    const archive = join(mirror, 'etcd', built.etcd.version, `etcd-v${built.etcd.version}-linux-amd64.tar.gz`);
    const original = readFileSync(archive);
    const tampered = Buffer.from(original);
    tampered[tampered.length >> 1]! ^= 0x01;
    writeFileSync(archive, tampered);
    const root = scratchDir('k8s-img-cache-');
    try {
      await assert.rejects(
        fetchBinaries({ config: withSource({ source: 'release', releaseURL: url }), cache: new BinaryCache(root), go, reporter: silentReporter }, ['etcd']),
        (e: unknown) => e instanceof FetchError && e.exitCode === 4 && /checksum mismatch/.test(e.message) && /nothing was cached/.test(e.hint ?? ''),
      );
      const etcdDir = join(root, 'bin', 'etcd', built.etcd.version);
      assert.deepEqual(existsSync(etcdDir) ? readdirSync(etcdDir) : [], []);
    } finally {
      writeFileSync(archive, original);
    }
  });

  it('an unreachable mirror is a clear error', async () => {
    await assert.rejects(
      fetchBinaries({ config: withSource({ source: 'release', releaseURL: 'http://127.0.0.1:9/none' }), cache: new BinaryCache(scratchDir('k8s-img-cache-')), go, reporter: silentReporter }, ['pause']),
      (e: unknown) => e instanceof FetchError && /cannot reach http:\/\/127\.0\.0\.1:9/.test(e.message),
    );
  });
});

describe('binaries.source: dir', () => {
  function binDir(names: string[]): string {
    const dir = scratchDir('k8s-img-bin-');
    for (const n of names) copyFileSync(built[n as keyof FetchedBinaries].path, join(dir, n));
    return dir;
  }

  it('accepts a folder whose binaries report the expected versions', async () => {
    const dir = binDir(['etcd', 'etcdctl', 'etcdutl']);
    const got = await fetchBinaries({ config: withSource({ source: 'dir', dir }), cache: new BinaryCache(cacheDir()), go, reporter: silentReporter }, ['etcd']);
    assert.equal(got.etcd.path, join(dir, 'etcd'));
  });

  it('names each missing or wrong binary', async () => {
    const dir = binDir(['etcd', 'etcdutl']);
    copyFileSync(built.etcdutl.path, join(dir, 'etcd')); // reports the wrong thing
    mkdirSync(join(dir, 'unused'));
    await assert.rejects(
      fetchBinaries({ config: withSource({ source: 'dir', dir }), cache: new BinaryCache(cacheDir()), go, reporter: silentReporter }, ['etcd']),
      (e: unknown) =>
        e instanceof FetchError &&
        e.message.includes(`${join(dir, 'etcd')}: reports`) &&
        e.message.includes(`expected "etcd Version: ${built.etcd.version}"`) &&
        e.message.includes(`${join(dir, 'etcdctl')}: missing`),
    );
  });
});
