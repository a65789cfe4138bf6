// SBOMs and root filesystem locks, the pure half: `go version -m` parsed, SPDX documents
// made deterministically from build info, sources and pinned packages, locks read and checked.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { goPurl, h1ToSha256, parseGoVersionM } from '../../src/fetch/buildinfo.js';
import { ROOTFS } from '../../src/plan/bases.js';
import { LOCK_FORMAT, debKey, formatLock, lockDifferences, lockMatches, lockTag, mirrorArgs, parseDebSums, parseInstalled, parseLock, pinnedIncludes, type RootfsLock } from '../../src/plan/rootfs-lock.js';
import { IMAGE_ID, spdxDocument, type SbomInput } from '../../src/render/sbom.js';

const VERSION_M = `binary: go1.26.8
\tpath\tk8s.io/kubernetes/cmd/kube-apiserver
\tmod\tk8s.io/kubernetes\tv1.37.2\th1:A2VDEiObzkYqFTKhSsn0ZEb0RlLEXpHWj93gi2HqEwE=
\tdep\tgithub.com/blang/semver/v4\tv4.0.0\th1:1PFHFE6yCCTv8C1TeyNNarDzntLi7wMI5i/pzqYIsAM=
\tdep\tk8s.io/api\tv0.0.0
\t=>\tk8s.io/api\tv0.37.2\th1:ZN+IMa753KfX5hd8vVaMixjnqRZ3y8CuJKRKj1xcsSM=
\tbuild\t-buildmode=exe
\tbuild\t-tags=selinux,notest,grpcnotrace
\tbuild\t-trimpath=true
\tbuild\tCGO_ENABLED=0
`;

describe('go version -m', () => {
  it('gives the main module, dependencies as built (replacements applied) and build settings', () => {
    const info = parseGoVersionM(VERSION_M)!;
    assert.equal(info.goVersion, 'go1.26.8');
    assert.equal(info.path, 'k8s.io/kubernetes/cmd/kube-apiserver');
    assert.deepEqual(info.main, { path: 'k8s.io/kubernetes', version: 'v1.37.2', sum: 'h1:A2VDEiObzkYqFTKhSsn0ZEb0RlLEXpHWj93gi2HqEwE=' });
    assert.deepEqual(info.deps[1], { path: 'k8s.io/api', version: 'v0.37.2', sum: 'h1:ZN+IMa753KfX5hd8vVaMixjnqRZ3y8CuJKRKj1xcsSM=', replaces: { path: 'k8s.io/api', version: 'v0.0.0' } });
    assert.equal(info.settings['-trimpath'], 'true');
    assert.equal(info.settings['-tags'], 'selinux,notest,grpcnotrace');
  });

  it('says nothing for a file that is not a Go binary', () => {
    assert.equal(parseGoVersionM('pause: could not read Go build info from pause: not a Go executable\n'), undefined);
  });

  it('turns an h1 hash into its sha256 in hex, and names modules by purl', () => {
    assert.equal(h1ToSha256('h1:A2VDEiObzkYqFTKhSsn0ZEb0RlLEXpHWj93gi2HqEwE='), Buffer.from('A2VDEiObzkYqFTKhSsn0ZEb0RlLEXpHWj93gi2HqEwE=', 'base64').toString('hex'));
    assert.equal(h1ToSha256('h1:short'), undefined);
    assert.equal(goPurl({ path: 'github.com/blang/semver/v4', version: 'v4.0.0' }), 'pkg:golang/github.com/blang/semver/v4@v4.0.0');
  });
});

const lock: RootfsLock = {
  format: LOCK_FORMAT,
  id: 'tools',
  suite: 'trixie',
  request: ['iptables'],
  mirror: 'http://mirror.example/debian',
  release: { date: '2026-11-21T09:15:44Z', version: '13.8' },
  resolvedOn: '2026-11-27',
  mmdebstrap: '1.3.5',
  layer: `sha256:${'c'.repeat(64)}`,
  packages: [
    { name: 'iptables', version: '1.8.11-2', arch: 'amd64', source: 'iptables', sourceVersion: '1.8.11-2', sha256: 'a'.repeat(64) },
    { name: 'libc6', version: '2.41-12', arch: 'amd64', source: 'glibc', sourceVersion: '2.41-12', sha256: 'b'.repeat(64) },
    { name: 'perl-base', version: '1:5.40.1-6', arch: 'amd64', source: 'perl', sourceVersion: '1:5.40.1-6', sha256: 'd'.repeat(64) },
  ],
};

describe('root filesystem locks', () => {
  it('read back what they write, one package per line', () => {
    const text = formatLock(lock);
    assert.deepEqual(parseLock(text, 'x'), lock);
    assert.equal(text.split('\n').filter((l) => l.includes('"name":')).length, 3);
  });

  it('refuse a malformed file, naming it', () => {
    assert.throws(() => parseLock('{', 'a.lock.json'), /a\.lock\.json is not JSON/);
    assert.throws(() => parseLock(JSON.stringify({ ...lock, format: 'other' }), 'b'), /not a k8s-img rootfs lock/);
    assert.throws(() => parseLock(JSON.stringify({ ...lock, packages: [{ ...lock.packages[0], version: '1; rm -rf /' }] }), 'c'), /malformed/);
    assert.throws(() => parseLock(JSON.stringify({ ...lock, release: { date: 'soon', version: '1' } }), 'd'), /not a date/);
  });

  it('pin every package for mmdebstrap, fit only the package list they were made for, and change the tag with any pin', () => {
    assert.equal(pinnedIncludes(lock), 'iptables=1.8.11-2,libc6=2.41-12,perl-base=1:5.40.1-6');
    const spec = { ...ROOTFS.tools, extraSuites: [], packages: ['iptables'] };
    assert.equal(lockMatches(lock, spec), true);
    assert.equal(lockMatches(lock, ROOTFS.tools), false);
    // Packages from a further suite (BIRD 1.6 from bookworm): the lock must have been made with it.
    assert.equal(lockMatches(lock, { ...spec, extraSuites: ['bookworm'] }), false);
    const withExtra = { ...lock, extraSuites: ['bookworm'] };
    assert.equal(lockMatches(withExtra, { ...spec, extraSuites: ['bookworm'] }), true);
    assert.notEqual(lockTag(withExtra), lockTag(lock));
    assert.deepEqual(parseLock(formatLock(withExtra), 'x'), withExtra);
    assert.deepEqual(mirrorArgs('trixie', [], 'http://m'), ['http://m']);
    assert.deepEqual(mirrorArgs('trixie', ['bookworm'], 'http://m'), ['deb http://m trixie main', 'deb http://m bookworm main']);
    const other = { ...lock, packages: lock.packages.map((p) => (p.name === 'libc6' ? { ...p, version: '2.41-13' } : p)) };
    assert.match(lockTag(lock), /^trixie-[0-9a-f]{12}$/);
    assert.notEqual(lockTag(other), lockTag(lock));
  });

  it('compare what was installed with the lock, and find .deb checksums by apt\'s file names', () => {
    const installed = parseInstalled('libc6\t2.41-12\tamd64\tglibc\t2.41-12\niptables\t1.8.11-3\tamd64\t\t\nextra\t1\tall\t\t\n');
    assert.deepEqual(installed[0], { name: 'extra', version: '1', arch: 'all', source: 'extra', sourceVersion: '1' });
    assert.deepEqual(lockDifferences(lock, installed), ['iptables: locked 1.8.11-2, installed 1.8.11-3', 'perl-base: locked 1:5.40.1-6, installed nothing', 'extra: installed 1, not in the lock']);
    const sums = parseDebSums(`${'e'.repeat(64)}  /tmp/mm.x/var/cache/apt/archives/perl-base_1%3a5.40.1-6_amd64.deb\n`);
    assert.equal(sums.get(debKey(lock.packages[2]!)), 'e'.repeat(64));
  });
});

describe('SPDX document', () => {
  const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');
  const input: SbomInput = {
    image: { name: 'kube-apiserver', version: 'v1.37.2', description: 'the Kubernetes API server' },
    toolVersion: '0.1.0',
    epoch: 0,
    baseNote: 'scratch (nothing)',
    layers: [
      {
        index: 0,
        description: 'k8s-img 0.1.0: files',
        files: [
          { path: 'usr/local/bin/kube-apiserver', sha1: sha1('a'), sha256: 'a'.repeat(64), type: 'BINARY', origin: { kind: 'go', build: parseGoVersionM(VERSION_M)! } },
          { path: 'etc/passwd', sha1: sha1('p'), sha256: 'b'.repeat(64), type: 'TEXT', origin: { kind: 'k8s-img' } },
          { path: 'usr/local/bin/k8s-img-probe', sha1: sha1('c'), sha256: 'c'.repeat(64), type: 'BINARY', origin: { kind: 'c', source: { name: 'k8s-img', version: '0.1.0', sha256: 'd'.repeat(64) }, toolchain: [{ name: 'libmbedtls-dev', version: '3.6.4-2', arch: 'amd64' }] } },
        ],
      },
    ],
  };

  it('names k8s.io/kubernetes at the built version with its go.sum hash, linked from the binary', () => {
    const doc = spdxDocument(input);
    const k8s = doc.packages.find((p) => p.name === 'k8s.io/kubernetes')!;
    assert.equal(k8s.versionInfo, 'v1.37.2');
    assert.deepEqual(k8s.checksums, [{ algorithm: 'SHA256', checksumValue: h1ToSha256('h1:A2VDEiObzkYqFTKhSsn0ZEb0RlLEXpHWj93gi2HqEwE=') }]);
    assert.match(k8s.comment!, /go\.sum: k8s\.io\/kubernetes v1\.37\.2 h1:A2VD/);
    const file = doc.files.find((f) => f.fileName === './usr/local/bin/kube-apiserver')!;
    assert.ok(doc.relationships.some((r) => r.spdxElementId === file.SPDXID && r.relationshipType === 'GENERATED_FROM' && r.relatedSpdxElement === k8s.SPDXID));
    const api = doc.packages.find((p) => p.name === 'k8s.io/api')!;
    assert.equal(api.versionInfo, 'v0.37.2', 'a replaced module is named as built');
    assert.ok(doc.relationships.some((r) => r.spdxElementId === file.SPDXID && r.relationshipType === 'STATIC_LINK' && r.relatedSpdxElement === api.SPDXID));
    assert.ok(doc.relationships.some((r) => r.spdxElementId === 'SPDXRef-DOCUMENT' && r.relationshipType === 'DESCRIBES' && r.relatedSpdxElement === IMAGE_ID));
  });

  it('lists each file with sha1 and sha256, in a layer package with SPDX\'s verification code', () => {
    const doc = spdxDocument(input);
    assert.equal(doc.files.length, 3);
    const layer = doc.packages.find((p) => p.SPDXID === 'SPDXRef-Layer-0')!;
    const code = createHash('sha1').update([sha1('a'), sha1('p'), sha1('c')].sort().join('')).digest('hex');
    assert.deepEqual([layer.filesAnalyzed, layer.packageVerificationCode], [true, { packageVerificationCodeValue: code }]);
    const probe = doc.files.find((f) => f.fileName.endsWith('k8s-img-probe'))!;
    const mbed = doc.packages.find((p) => p.name === 'libmbedtls-dev')!;
    assert.ok(doc.relationships.some((r) => r.spdxElementId === mbed.SPDXID && r.relationshipType === 'STATIC_LINK' && r.relatedSpdxElement === probe.SPDXID));
  });

  it('is the same document for the same inputs, another for other inputs', () => {
    const a = spdxDocument(input);
    assert.deepEqual(spdxDocument(input), a);
    assert.equal(a.creationInfo.created, '1970-01-01T00:00:00Z');
    const b = spdxDocument({ ...input, image: { ...input.image, version: 'v1.37.3' } });
    assert.notEqual(b.documentNamespace, a.documentNamespace);
  });

  it('carries a root filesystem\'s pinned Debian packages, and a derived image carries its base\'s', () => {
    const base = spdxDocument({ image: { name: 'rootfs-tools', version: lockTag(lock), description: 'tools' }, toolVersion: '0.1.0', epoch: 0, baseNote: 'nothing', layers: [], debian: { lock, distro: 'debian-13', layerIndex: 0 } });
    const iptables = base.packages.find((p) => p.name === 'iptables')!;
    assert.deepEqual(iptables.checksums, [{ algorithm: 'SHA256', checksumValue: 'a'.repeat(64) }]);
    assert.equal(iptables.externalRefs![0]!.referenceLocator, 'pkg:deb/debian/iptables@1.8.11-2?arch=amd64&distro=debian-13');
    assert.match(base.packages.find((p) => p.name === 'perl-base')!.externalRefs![0]!.referenceLocator, /@1%3A5\.40\.1-6\?arch=amd64&distro=debian-13&upstream=perl%401%3A5\.40\.1-6$/);
    const derived = spdxDocument({ ...input, base, layers: [{ ...input.layers[0]!, index: 1 }] });
    assert.ok(derived.packages.some((p) => p.name === 'libc6' && p.versionInfo === '2.41-12'));
    assert.ok(derived.relationships.some((r) => r.spdxElementId === IMAGE_ID && r.relatedSpdxElement === 'SPDXRef-Layer-0'), 'the base layer is the image\'s');
    assert.ok(derived.relationships.some((r) => r.spdxElementId === IMAGE_ID && r.relatedSpdxElement === 'SPDXRef-Layer-1'));
    assert.equal(derived.packages.filter((p) => p.SPDXID === IMAGE_ID).length, 1);
  });
});
