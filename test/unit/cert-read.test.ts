// cert-read.ts reads certificates and keys without @peculiar/x509 and checks them
// without OpenSSL's certificate parser: what it reads must equal the library's reading,
// and every check must give OpenSSL's answer, on real certificates of every kind the
// cluster has and on ones outside the shapes it reads (which it leaves to them).
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type * as X509 from '@peculiar/x509';
import type { LeafSpec } from '../../src/plan/pki.js';
import { planCluster } from '../../src/plan/plan.js';
import { ECDSA_SHA256, readCert, readEcKey } from '../../src/pki/cert-read.js';
import { der as derElement, pemDecode, pemEncode } from '../../src/pki/der.js';
import { caSigner, createCA, describeCert, describeWithLibrary, isPrivateKey, issueLeaf, issueLeafWithLibrary, keyMatchesCert, leafTbs, verifiedBy, verifiedByOpenSSL, verifiedFromDer, type KeyPairPem } from '../../src/pki/x509.js';
import { defaultIssuers } from '../../src/runtime/issuers.js';
import { StateDir } from '../../src/runtime/state.js';
import { loadFixture } from '../helpers/fixtures.js';

const require = createRequire(import.meta.url);
require('reflect-metadata');
const x509 = require('@peculiar/x509') as typeof X509;
x509.cryptoProvider.set(globalThis.crypto);

const plan = planCluster(loadFixture('valid/tutorial-secure.yaml'));
const dir = mkdtempSync(join(tmpdir(), 'k8s-img-cert-read-'));
let secrets: Record<string, string>;
before(async () => {
  secrets = { ...(await new StateDir(join(dir, 'state')).ensure(plan, defaultIssuers())) };
});
after(() => rmSync(dir, { recursive: true, force: true }));

const now = new Date('2026-03-04T05:06:07.891Z');
const spec = (over: Partial<LeafSpec>): LeafSpec => ({ name: 'x', ca: 'ca', commonName: 'x', organizations: [], usage: 'client', dnsNames: [], ipAddresses: [], ...over });
const der = (pem: string) => Buffer.from(new X509Certificate(pem).raw);
const pem = (raw: Buffer) => pemEncode(raw, 'CERTIFICATE');
const outcome = <T>(f: () => T): { value: T } | { refused: true } => {
  try {
    return { value: f() };
  } catch {
    return { refused: true };
  }
};

describe('certificates read without the library', () => {
  it('every certificate of a cluster (CAs, apiserver with IP SANs, clients, kubelets, etcd) reads as the library reads it', () => {
    const crts = Object.keys(secrets).filter((n) => n.endsWith('.crt'));
    assert.ok(crts.length > 20);
    const kinds = new Set<string>();
    for (const name of crts) {
      assert.ok(readCert(secrets[name]!), `${name} is in a shape read here`);
      const info = describeCert(secrets[name]!);
      assert.deepEqual(info, describeWithLibrary(secrets[name]!), name);
      kinds.add(info.isCA ? 'CA' : `${info.extKeyUsages.join('+')}${info.ipAddresses.length > 0 ? ' with IP SANs' : ''}${info.organizations.length > 0 ? ' with O' : ''}`);
    }
    for (const k of ['CA', 'serverAuth with IP SANs', 'clientAuth', 'clientAuth with O', 'serverAuth+clientAuth with IP SANs']) assert.ok(kinds.has(k), `no ${k} certificate among ${[...kinds].join(', ')}`);
    assert.deepEqual(describeCert(secrets['kubelet-sw1.crt']!).subject, 'O=system:nodes, CN=system:node:sw1');
  });

  it('odd names, the library-built leaf and other shapes: the same reading as the library, or left to it', async () => {
    const ca = await createCA({ name: 'ca', commonName: 'kubernetes' }, now);
    const leaves: [string, KeyPairPem, boolean][] = [
      ['UTF-8 names and characters that need escaping', await issueLeaf(spec({ commonName: 'näme, with+"specials"; <x> ', organizations: ['#first', 'Ö\\'], dnsNames: ['a.example'], ipAddresses: ['10.0.0.1'], usage: 'both' }), ca, now), true],
      ['built by the library', await issueLeafWithLibrary(spec({ usage: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] }), ca, now), true],
      ['an IPv6 address (library)', await issueLeafWithLibrary(spec({ usage: 'server', ipAddresses: ['fd00::1', '10.0.0.2'] }), ca, now), false],
      ['valid past 2050 (GeneralizedTime, library)', await issueLeaf(spec({}), ca, new Date('2049-12-01T00:00:00Z')), false],
    ];
    for (const [what, leaf, ours] of leaves) {
      assert.equal(readCert(leaf.cert) !== undefined, ours, `${what}: read here?`);
      assert.deepEqual(describeCert(leaf.cert), describeWithLibrary(leaf.cert), what);
      assert.equal(await verifiedBy(leaf.cert, ca.cert), true, what);
      assert.equal(await keyMatchesCert(leaf.key, leaf.cert), true, what);
    }
    // An RSA CA of the library's: another shape entirely.
    const keys = await crypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify']);
    const rsa = await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: '01', name: 'CN=rsa, O=x', notBefore: now, notAfter: new Date('2030-01-01Z'), keys, signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5' }, extensions: [new x509.BasicConstraintsExtension(true, 2, true)] });
    const rsaPem = rsa.toString('pem');
    assert.equal(readCert(rsaPem), undefined);
    assert.deepEqual(describeCert(rsaPem), describeWithLibrary(rsaPem));
    assert.equal(await verifiedBy(rsaPem, rsaPem), true);
  });

  it('PEM: written as the library writes it; only that exact layout is read here', () => {
    for (const n of [1, 47, 48, 49, 300]) {
      const data = randomBytes(n);
      assert.equal(pemEncode(data, 'CERTIFICATE'), x509.PemConverter.encode(new Uint8Array(data), 'CERTIFICATE'));
      assert.deepEqual(pemDecode(pemEncode(data, 'X'), 'X'), data);
      assert.deepEqual(pemDecode(`${pemEncode(data, 'X')}\n`, 'X'), data);
    }
    const text = secrets['ca.crt']!;
    const b64 = text.split('\n').slice(1, -1).join('');
    for (const odd of [
      text.replaceAll('\n', '\r\n'),
      `-----BEGIN CERTIFICATE-----\n${b64.match(/.{1,76}/g)!.join('\n')}\n-----END CERTIFICATE-----`,
      `junk\n${text}`,
      `${text}\n${text}`,
      text.replace('CERTIFICATE', 'X509 CERTIFICATE'),
      text.replace('\nMII', '\n MII'),
    ]) {
      assert.equal(pemDecode(odd, 'CERTIFICATE'), undefined, JSON.stringify(odd.slice(0, 80)));
      // left to the library: the same reading, or the same refusal
      assert.deepEqual(outcome(() => describeCert(odd)), outcome(() => describeWithLibrary(odd)));
    }
  });
});

describe('checks without OpenSSL certificate parsing', () => {
  it('issued by: the DER check says yes exactly where OpenSSL does, on every pair of a cluster', async () => {
    const crts = Object.keys(secrets).filter((n) => n.endsWith('.crt'));
    const cas = ['ca.crt', 'etcd-ca.crt', 'front-proxy-ca.crt'];
    let yes = 0;
    for (const c of crts) {
      for (const ca of cas) {
        const openssl = verifiedByOpenSSL(secrets[c]!, secrets[ca]!);
        assert.equal(await verifiedFromDer(secrets[c]!, secrets[ca]!), openssl, `${c} by ${ca}`);
        if (openssl) yes++;
      }
    }
    assert.equal(yes, crts.length, 'each certificate has exactly one issuer');
  });

  it('a changed signature, to-be-signed byte, issuer name or key identifier, or a CA without certificate signing: no', async () => {
    const ca = await createCA({ name: 'ca', commonName: 'kubernetes' }, now);
    const leaf = await issueLeaf(spec({ usage: 'server', ipAddresses: ['10.0.0.1'] }), ca, now);
    const raw = der(leaf.cert);
    const at = (needle: Buffer) => raw.indexOf(needle);
    const flip = (i: number) => {
      const b = Buffer.from(raw);
      b[i]! ^= 0x01;
      return pem(b);
    };
    const tampered = [
      flip(raw.length - 3), // signature
      flip(at(Buffer.from('10.0.0.1'.split('.').map(Number))) + 3), // the IP SAN
      flip(raw.indexOf(Buffer.from('kubernetes')) + 2), // issuer name
      flip(at(readCert(ca.cert)!.keyId!) + 5), // authority key identifier
    ];
    for (const t of tampered) {
      assert.equal(verifiedByOpenSSL(t, ca.cert), false);
      assert.equal(await verifiedFromDer(t, ca.cert), false);
      assert.equal(await verifiedBy(t, ca.cert), false);
    }
    // Correctly signed, but naming another authority key identifier: OpenSSL's issuer check refuses it.
    const signer = caSigner(ca)!;
    const spki = Buffer.from(new X509Certificate(leaf.cert).publicKey.export({ type: 'spki', format: 'der' }));
    const tbs = leafTbs(spec({}), { ...signer, keyId: randomBytes(20) }, spki, '4f'.repeat(16), now);
    const otherAkid = pem(derElement(0x30, tbs, ECDSA_SHA256, derElement(0x03, Buffer.from([0]), sign('sha256', tbs, signer.key))));
    assert.ok(readCert(otherAkid));
    assert.equal(verifiedByOpenSSL(otherAkid, ca.cert), false);
    assert.equal(await verifiedFromDer(otherAkid, ca.cert), false);
    // A CA whose key usage lacks keyCertSign: OpenSSL refuses it as an issuer, and so do we.
    const keys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const weak = await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: '01', name: 'CN=weak', notBefore: now, notAfter: new Date('2030-01-01Z'), keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' }, extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true), await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)] });
    const weakCA = { cert: weak.toString('pem'), key: pemEncode(new Uint8Array(await crypto.subtle.exportKey('pkcs8', keys.privateKey)), 'PRIVATE KEY') };
    const signed = await issueLeaf(spec({}), weakCA, now);
    assert.ok(readCert(weakCA.cert) && readCert(signed.cert));
    assert.equal(verifiedByOpenSSL(signed.cert, weakCA.cert), false);
    assert.equal(await verifiedFromDer(signed.cert, weakCA.cert), false);
  });

  it('keys: read here only when the private scalar gives the public key; every answer as OpenSSL gives it', async () => {
    const names = Object.keys(secrets).filter((n) => n.endsWith('.key') && secrets[n.replace(/key$/, 'crt')] !== undefined);
    for (const n of names) {
      assert.ok(readEcKey(secrets[n]!), `${n} is read here`);
      assert.equal(isPrivateKey(secrets[n]!), true);
      assert.equal(await keyMatchesCert(secrets[n]!, secrets[n.replace(/key$/, 'crt')]!), true, n);
    }
    const key = secrets['apiserver.key']!;
    const crt = secrets['apiserver.crt']!;
    const raw = pemDecode(key, 'PRIVATE KEY')!;
    const withScalar = (i: number) => {
      const b = Buffer.from(raw);
      b[36 + i]! ^= 0x01; // a byte of the private scalar: the public key no longer matches it
      return pemEncode(b, 'PRIVATE KEY');
    };
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }).toString();
    for (const other of [withScalar(0), withScalar(31), rsa, ec, key.replace('PRIVATE KEY', 'EC PRIVATE KEY'), 'not a key', secrets['admin.key']!]) {
      assert.equal(readEcKey(other) !== undefined, other === secrets['admin.key'], 'read here only when it is a sound key');
      let readable = true;
      try {
        createPrivateKey(other);
      } catch {
        readable = false;
      }
      assert.equal(isPrivateKey(other), readable);
      let matches = false;
      try {
        matches = new X509Certificate(crt).checkPrivateKey(createPrivateKey(other));
      } catch {
        matches = false;
      }
      assert.equal(await keyMatchesCert(other, crt), matches);
    }
  });
});
