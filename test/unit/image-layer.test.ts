// Reproducible images, the pure half: layer entries are normalised (sorted, parents added,
// hard links canonical) and encoded with one fixed time; configs are canonical JSON with
// one creation time. A standard tar reader must see exactly the entries we meant.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import tar from 'tar-stream';
import { baseConfigOf, canonicalJson, imageConfig, mergeEnv, SCRATCH } from '../../src/render/image-config.js';
import { encodeLayer, LayerError, normalizeEntries, type LayerChunk, type LayerEntry } from '../../src/render/layer-tar.js';

type E = LayerEntry<Buffer>;
const f = (path: string, text: string, extra: Partial<E> = {}): E => ({ path, type: 'file', mode: 0o644, uid: 0, gid: 0, size: Buffer.byteLength(text), content: Buffer.from(text), ...extra });
const bytes = (chunks: LayerChunk<Buffer>[]) => Buffer.concat(chunks.map((c) => (Buffer.isBuffer(c) ? c : c.content)));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Seen {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  linkname: string | null;
  uname: string;
  body: string;
  pax?: Record<string, string>;
}

/** What tar-stream (an independent reader) finds in the bytes. */
async function read(data: Buffer): Promise<Seen[]> {
  const out: Seen[] = [];
  const x = tar.extract();
  x.on('entry', (h, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => chunks.push(c as Buffer));
    stream.on('end', () => {
      out.push({ name: h.name, type: h.type ?? '', mode: h.mode ?? 0, uid: h.uid ?? 0, gid: h.gid ?? 0, mtime: h.mtime!.getTime() / 1000, linkname: h.linkname ?? null, uname: h.uname ?? '', body: Buffer.concat(chunks).toString(), ...(h.pax ? { pax: h.pax as Record<string, string> } : {}) });
      next();
    });
  });
  await new Promise<void>((resolve, reject) => {
    x.on('finish', resolve);
    x.on('error', reject);
    Readable.from([data]).pipe(x);
  });
  return out;
}

describe('layer normalisation', () => {
  it('sorts by path, adds missing parents as root-owned 0755 folders and drops the root', () => {
    const out = normalizeEntries([f('/usr/local/bin/b', 'b'), f('./etc/passwd', 'p'), f('usr/local/bin/a', 'a'), { path: '/', type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0 }]);
    assert.deepEqual(out.map((e) => e.path), ['etc', 'etc/passwd', 'usr', 'usr/local', 'usr/local/bin', 'usr/local/bin/a', 'usr/local/bin/b']);
    assert.deepEqual(out.filter((e) => e.type === 'dir').map((e) => [e.mode, e.uid, e.gid]), [[0o755, 0, 0], [0o755, 0, 0], [0o755, 0, 0], [0o755, 0, 0]]);
  });

  it('sorts bytewise, so a folder comes before its children and after names it prefixes', () => {
    const out = normalizeEntries([f('a/b', '1'), f('a-b', '2'), f('a.c', '3'), { path: 'a', type: 'dir', mode: 0o700, uid: 5, gid: 5, size: 0 }]);
    assert.deepEqual(out.map((e) => e.path), ['a', 'a-b', 'a.c', 'a/b']);
    assert.equal(out[0]!.mode, 0o700, 'a folder given explicitly keeps its mode');
  });

  it('gives a hard-link group its data on the path that sorts first', () => {
    const out = normalizeEntries([
      f('bin/z', 'data', { mode: 0o4755 }),
      { path: 'bin/a', type: 'link', mode: 0, uid: 0, gid: 0, size: 0, linkname: 'bin/z' },
      { path: 'bin/m', type: 'link', mode: 0, uid: 0, gid: 0, size: 0, linkname: '/bin/a' },
    ]);
    const byPath = Object.fromEntries(out.map((e) => [e.path, e]));
    assert.equal(byPath['bin/a']!.type, 'file');
    assert.equal(byPath['bin/a']!.content!.toString(), 'data');
    assert.equal(byPath['bin/a']!.mode, 0o4755);
    assert.deepEqual([byPath['bin/m']!.type, byPath['bin/m']!.linkname], ['link', 'bin/a']);
    assert.deepEqual([byPath['bin/z']!.type, byPath['bin/z']!.linkname], ['link', 'bin/a']);
  });

  it('refuses a path given twice, a path leaving the root, a file used as a folder and a dangling hard link', () => {
    assert.throws(() => normalizeEntries([f('etc/x', '1'), f('/etc/x', '2')]), LayerError);
    assert.throws(() => normalizeEntries([f('../x', '1')]), /leaves the root/);
    assert.throws(() => normalizeEntries([f('etc', '1'), f('etc/x', '2')]), /not a folder/);
    assert.throws(() => normalizeEntries([{ path: 'a', type: 'link', mode: 0, uid: 0, gid: 0, size: 0, linkname: 'b' }]), /not in the layer/);
  });
});

describe('layer encoding', () => {
  const entries = normalizeEntries([
    f('etc/passwd', 'root:x:0:0::/root:/sbin/nologin\n'),
    f('usr/local/bin/tool', '#!/bin/sh\necho hi\n', { mode: 0o755 }),
    { path: 'tmp', type: 'dir', mode: 0o1777, uid: 0, gid: 0, size: 0 },
    { path: 'home/user', type: 'dir', mode: 0o750, uid: 1000, gid: 1000, size: 0 },
    { path: 'bin/sh', type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, linkname: '/usr/local/bin/tool' },
    { path: 'bin/tool2', type: 'link', mode: 0, uid: 0, gid: 0, size: 0, linkname: 'usr/local/bin/tool' },
    f(`usr/share/${'very-long-folder-name/'.repeat(12)}file.txt`, 'deep'),
    f('usr/bin/ping', 'elf', { mode: 0o755, xattrs: { 'security.capability': Buffer.from([1, 0, 0, 2, 0, 0x20, 0, 0]) } }),
  ]);

  it('is what a standard reader sees: names, types, modes, owners, links, one time, no user names', async () => {
    const layer = encodeLayer(entries, 0);
    const data = bytes(layer.chunks);
    assert.equal(data.length, layer.size, 'the size is known before any content is read');
    assert.equal(data.length % 512, 0);
    const seen = await read(data);
    const names = seen.map((s) => s.name.replace(/\/$/, ''));
    assert.deepEqual(names, entries.map((e) => e.path));
    for (const s of seen) {
      assert.equal(s.mtime, 0, s.name);
      assert.equal(s.uname, '', s.name);
    }
    const by = Object.fromEntries(seen.map((s) => [s.name.replace(/\/$/, ''), s]));
    assert.equal(by.tmp!.mode, 0o1777);
    assert.deepEqual([by['home/user']!.uid, by['home/user']!.gid, by['home/user']!.mode], [1000, 1000, 0o750]);
    assert.deepEqual([by['bin/sh']!.type, by['bin/sh']!.linkname], ['symlink', '/usr/local/bin/tool']);
    // bin/tool2 sorts before usr/local/bin/tool: it holds the data, the other links to it.
    assert.equal(by['bin/tool2']!.body, '#!/bin/sh\necho hi\n');
    assert.deepEqual([by['usr/local/bin/tool']!.type, by['usr/local/bin/tool']!.linkname], ['link', 'bin/tool2']);
    assert.equal(by[`usr/share/${'very-long-folder-name/'.repeat(12)}file.txt`]!.body, 'deep');
    assert.equal(Buffer.from(by['usr/bin/ping']!.pax!['SCHILY.xattr.security.capability']!, 'latin1').length > 0, true);
  });

  it('gives the same bytes for the same entries in any order, and other bytes for another time', () => {
    const a = bytes(encodeLayer(normalizeEntries([...entries].reverse()), 0).chunks);
    const b = bytes(encodeLayer(entries, 0).chunks);
    assert.equal(sha(a), sha(b));
    assert.notEqual(sha(bytes(encodeLayer(entries, 1700000000).chunks)), sha(b));
  });

  it('keeps file content as a reference, so big files are streamed, not held', () => {
    const ref = encodeLayer(normalizeEntries<{ file: string }>([{ path: 'big', type: 'file', mode: 0o755, uid: 0, gid: 0, size: 5_000_000_000, content: { file: '/x' } }]), 0);
    const content = ref.chunks.filter((c) => !Buffer.isBuffer(c));
    assert.deepEqual(content, [{ content: { file: '/x' }, size: 5_000_000_000, path: 'big' }]);
    assert.equal(ref.size, 512 + 5_000_000_000 + ((512 - (5_000_000_000 % 512)) % 512) + 1024);
  });
});

describe('image config', () => {
  const layers = [{ diffId: `sha256:${'a'.repeat(64)}`, history: { created_by: 'k8s-img: files' } }];

  it('is canonical JSON with one creation time for the image and its history', () => {
    const text = imageConfig({ labels: { z: '1', a: '2' }, entrypoint: ['/x'], user: '0', exposedPorts: ['80', '53/udp'] }, SCRATCH, layers, { epoch: 0, arch: 'amd64' });
    assert.equal(text, canonicalJson(JSON.parse(text)), 'keys sorted, no spaces');
    const c = JSON.parse(text);
    assert.equal(c.created, '1970-01-01T00:00:00Z');
    assert.deepEqual(c.history, [{ created: '1970-01-01T00:00:00Z', created_by: 'k8s-img: files' }]);
    assert.deepEqual(c.rootfs, { type: 'layers', diff_ids: [`sha256:${'a'.repeat(64)}`] });
    assert.deepEqual(Object.keys(c.config.Labels), ['a', 'z']);
    assert.deepEqual(c.config.ExposedPorts, { '53/udp': {}, '80/tcp': {} });
    assert.equal('container' in c || 'container_config' in c, false, 'nothing the engine would add on its own');
    assert.equal(text, imageConfig({ labels: { a: '2', z: '1' }, user: '0', entrypoint: ['/x'], exposedPorts: ['80', '53/udp'] }, SCRATCH, layers, { epoch: 0, arch: 'amd64' }));
  });

  it('inherits the base\'s layers, history (as it has it), environment and labels', () => {
    const base = baseConfigOf(imageConfig({ labels: { from: 'base', over: 'base' }, env: ['PATH=/bin', 'A=1'] }, SCRATCH, layers, { epoch: 5, arch: 'amd64' }));
    const c = JSON.parse(imageConfig({ labels: { over: 'ours' }, env: ['A=2'] }, base, [{ diffId: `sha256:${'b'.repeat(64)}`, history: { created_by: 'ours' } }], { epoch: 0, arch: 'amd64' }));
    assert.deepEqual(c.rootfs.diff_ids, [`sha256:${'a'.repeat(64)}`, `sha256:${'b'.repeat(64)}`]);
    assert.deepEqual(c.history.map((h: { created: string }) => h.created), ['1970-01-01T00:00:05Z', '1970-01-01T00:00:00Z']);
    assert.deepEqual(c.config.Env, ['PATH=/bin', 'A=2']);
    assert.deepEqual(c.config.Labels, { from: 'base', over: 'ours' });
  });

  it('inherits the base\'s entrypoint, cmd, user and ports unless it sets them (its own entrypoint drops the base\'s cmd)', () => {
    const base = baseConfigOf(imageConfig({ labels: {}, entrypoint: ['/agnhost'], cmd: ['pause'], user: '1000', exposedPorts: ['80'] }, SCRATCH, layers, { epoch: 0, arch: 'amd64' }));
    const child = (spec: { cmd?: string[]; entrypoint?: string[] }) => JSON.parse(imageConfig({ labels: {}, ...spec }, base, [], { epoch: 0, arch: 'amd64' })).config;
    assert.deepEqual(child({ cmd: ['test-webserver'] }), { Entrypoint: ['/agnhost'], Cmd: ['test-webserver'], User: '1000', ExposedPorts: { '80/tcp': {} }, Labels: {} });
    assert.deepEqual(child({}).Cmd, ['pause']);
    assert.equal(child({ entrypoint: ['/x'] }).Cmd, undefined);
    // Scratch and the Debian bases set none of these: nothing is added to the images on them.
    assert.deepEqual(JSON.parse(imageConfig({ labels: {} }, SCRATCH, [], { epoch: 0, arch: 'amd64' })).config, { Labels: {} });
  });

  it('merges environments by name, later values winning', () => {
    assert.deepEqual(mergeEnv(['PATH=/a', 'X=1'], ['X=2', 'Y=3']), ['PATH=/a', 'X=2', 'Y=3']);
  });
});
