// ECDSA P-256 keys (PKCS#8 PEM) and certificates shaped as kubeadm's, so Go's TLS stack
// (apiserver, kubelet, etcd) accepts them. Leaves are built as DER here and signed with
// node:crypto; CAs, and whatever falls outside the shapes cert-read.ts reads, go through
// @peculiar/x509, loaded only then (with its dependencies it is a quarter of a second of
// start-up that generate with existing keys does not need).
import { X509Certificate as NodeX509, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as X509 from '@peculiar/x509';
import { CA_YEARS, LEAF_DAYS, type CASpec, type LeafSpec } from '../plan/pki.js';
import { ECDSA_SHA256, OID, isPrintableString, readCert, readEcKey, type CertInfo, type CertParts, type ExtKeyUsageName } from './cert-read.js';
import { bodyOf, children, der, element, pemEncode } from './der.js';

export type { CertInfo, ExtKeyUsageName };

let loaded: typeof X509 | undefined;
/** @peculiar/x509, loaded on first use (synchronously: describeCert's fallback is synchronous). */
function library(): typeof X509 {
  if (!loaded) {
    const require = createRequire(import.meta.url);
    require('reflect-metadata'); // tsyringe, which the library loads, needs the Reflect metadata API
    loaded = require('@peculiar/x509') as typeof X509;
    loaded.cryptoProvider.set(globalThis.crypto);
  }
  return loaded;
}

const subtle = globalThis.crypto.subtle;
const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
// Issued an hour in the past, so a node whose clock lags a little still accepts them.
const BACKDATE_MS = HOUR_MS;

export interface KeyPairPem {
  cert: string;
  key: string;
}

export async function createCA(spec: CASpec, now: Date): Promise<KeyPairPem> {
  const x509 = library();
  const keys = await generateKeys();
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_YEARS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: subjectName(spec.commonName, []),
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter,
    keys,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem'), key: await exportKey(keys.privateKey) };
}

/**
 * Signs a leaf with `ca`; with `existingKey` the leaf keeps its key (renewal, as `kubeadm certs renew`).
 * The DER is built here and signed with node:crypto (a 1 000-node cluster has ~2 000
 * leaves); the same bytes as issueLeafWithLibrary's but for the key, serial and
 * signature (a test compares them), which stays for what this does not cover.
 */
export async function issueLeaf(spec: LeafSpec, ca: KeyPairPem, now: Date, existingKey?: string): Promise<KeyPairPem> {
  const signer = caSigner(ca);
  const notAfter = new Date(now.getTime() + LEAF_DAYS * DAY_MS);
  if (!signer || notAfter.getUTCFullYear() >= 2050 || spec.ipAddresses.some((ip) => !/^\d{1,3}(\.\d{1,3}){3}$/.test(ip))) {
    return issueLeafWithLibrary(spec, ca, now, existingKey);
  }
  const privateKey = existingKey === undefined ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey : privateKeyObject(existingKey);
  const tbs = leafTbs(spec, signer, createPublicKey(privateKey).export({ type: 'spki', format: 'der' }), randomSerial(), now);
  const signature = sign('sha256', tbs, signer.key);
  const cert = der(0x30, tbs, ECDSA_SHA256, der(0x03, Buffer.from([0]), signature));
  return { cert: pemEncode(cert, 'CERTIFICATE'), key: existingKey ?? pemEncode(privateKey.export({ type: 'pkcs8', format: 'der' }), 'PRIVATE KEY') };
}

/** The to-be-signed part of a leaf certificate, as X509CertificateGenerator lays it out. */
export function leafTbs(spec: LeafSpec, ca: { subject: Buffer; keyId: Buffer }, spki: Buffer, serialHex: string, now: Date): Buffer {
  const usages = { client: [OID.clientAuth], server: [OID.serverAuth], both: [OID.serverAuth, OID.clientAuth] }[spec.usage];
  const extensions = [
    extension(OID.basicConstraints, true, der(0x30)),
    extension(OID.keyUsage, true, Buffer.from([0x03, 0x02, 0x05, 0xa0])), // digitalSignature, keyEncipherment
    extension(OID.extKeyUsage, false, der(0x30, ...usages)),
    extension(OID.authorityKeyId, false, der(0x30, der(0x80, ca.keyId))),
    extension(OID.subjectKeyId, false, der(0x04, keyIdOf(spki))),
  ];
  const altNames = [...spec.dnsNames.map((n) => der(0x82, Buffer.from(n, 'ascii'))), ...spec.ipAddresses.map((ip) => der(0x87, Buffer.from(ip.split('.').map(Number))))];
  if (altNames.length > 0) extensions.push(extension(OID.subjectAltName, false, der(0x30, ...altNames)));
  const attr = (oid: Buffer, v: string) => der(0x31, der(0x30, oid, der(isPrintableString(v) ? 0x13 : 0x0c, Buffer.from(v, 'utf8'))));
  const subject = der(0x30, ...spec.organizations.map((o) => attr(OID.O, o)), attr(OID.CN, spec.commonName));
  const notBefore = new Date(now.getTime() - BACKDATE_MS);
  const notAfter = new Date(now.getTime() + LEAF_DAYS * DAY_MS);
  return der(
    0x30,
    der(0xa0, der(0x02, Buffer.from([2]))),
    der(0x02, Buffer.from(serialHex, 'hex')),
    ECDSA_SHA256,
    ca.subject,
    der(0x30, utcTime(notBefore), utcTime(notAfter)),
    subject,
    spki,
    der(0xa3, der(0x30, ...extensions)),
  );
}

function extension(id: Buffer, critical: boolean, value: Buffer): Buffer {
  return der(0x30, id, ...(critical ? [Buffer.from([0x01, 0x01, 0xff])] : []), der(0x04, value));
}

function utcTime(d: Date): Buffer {
  const two = (n: number) => String(n).padStart(2, '0');
  const text = `${two(d.getUTCFullYear() % 100)}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}Z`;
  return der(0x17, Buffer.from(text, 'ascii'));
}

/** SHA-1 of the subject public key's bits, as SubjectKeyIdentifierExtension.create computes it. */
function keyIdOf(spki: Buffer): Buffer {
  const bits = children(spki, element(spki, 0))[1]!;
  return createHash('sha1').update(bodyOf(spki, bits).subarray(1)).digest();
}

interface CASigner {
  subject: Buffer; // the CA's subject, verbatim
  keyId: Buffer; // its subject key identifier
  key: KeyObject;
}
const signers = new Map<string, CASigner | undefined>();

/**
 * What signing with `ca` needs, read once per CA; undefined when its certificate is not
 * in a shape cert-read.ts reads (a P-256 CA with a subject key identifier).
 */
export function caSigner(ca: KeyPairPem): CASigner | undefined {
  const memo = `${ca.cert}\0${ca.key}`;
  if (signers.has(memo)) return signers.get(memo);
  let signer: CASigner | undefined;
  const parts = certParts(ca.cert);
  try {
    if (parts?.keyId) signer = { subject: Buffer.from(parts.subject), keyId: Buffer.from(parts.keyId), key: privateKeyObject(ca.key) };
  } catch {
    signer = undefined; // an unreadable key: the library path reports it
  }
  signers.set(memo, signer);
  return signer;
}

/** issueLeaf through @peculiar/x509 (the reference for its bytes). */
export async function issueLeafWithLibrary(spec: LeafSpec, ca: KeyPairPem, now: Date, existingKey?: string): Promise<KeyPairPem> {
  const x509 = library();
  const caCert = new x509.X509Certificate(ca.cert);
  const caKey = await importPrivateKey(ca.key);
  const keys = existingKey === undefined ? await generateKeys() : await keyPairFromPem(existingKey);
  const caKeyId = caCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const usages = {
    client: [x509.ExtendedKeyUsage.clientAuth],
    server: [x509.ExtendedKeyUsage.serverAuth],
    both: [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
  }[spec.usage];
  const extensions: X509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension(usages),
    caKeyId ? new x509.AuthorityKeyIdentifierExtension(caKeyId) : await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  const altNames = [...spec.dnsNames.map((value) => ({ type: 'dns' as const, value })), ...spec.ipAddresses.map((value) => ({ type: 'ip' as const, value }))];
  if (altNames.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(altNames));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: subjectName(spec.commonName, spec.organizations),
    // The CA's subject bytes verbatim: Go finds a certificate's parent by comparing them.
    issuer: caCert.subjectName,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + LEAF_DAYS * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: SIGNING,
    extensions,
  });
  return { cert: cert.toString('pem'), key: existingKey ?? (await exportKey(keys.privateKey)) };
}

// The library's readings, per PEM text (certParts remembers the rest): generate reads each twice.
const described = new Map<string, CertInfo>();

/** The certificate's fields. */
export function describeCert(pem: string): CertInfo {
  const ours = certParts(pem)?.info;
  if (ours) return ours;
  let info = described.get(pem);
  if (!info) described.set(pem, (info = describeWithLibrary(pem)));
  return info;
}

/** describeCert through @peculiar/x509: the reference, and the reader of every other shape. */
export function describeWithLibrary(pem: string): CertInfo {
  const x509 = library();
  const cert = new x509.X509Certificate(pem);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const names = san?.names.items ?? [];
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [];
  const extKeyUsages: ExtKeyUsageName[] = [];
  if (eku.includes(x509.ExtendedKeyUsage.serverAuth)) extKeyUsages.push('serverAuth');
  if (eku.includes(x509.ExtendedKeyUsage.clientAuth)) extKeyUsages.push('clientAuth');
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    commonName: cert.subjectName.getField('CN')[0] ?? '',
    organizations: cert.subjectName.getField('O'),
    dnsNames: names.filter((n) => n.type === 'dns').map((n) => n.value),
    ipAddresses: names.filter((n) => n.type === 'ip').map((n) => n.value),
    extKeyUsages,
    isCA: cert.getExtension(x509.BasicConstraintsExtension)?.ca ?? false,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    serial: cert.serialNumber,
  };
}

/**
 * Whether `caPem` issued `certPem`: issuer name matches and the signature checks out
 * (dates are not checked). Certificates in k8s-img's shapes are checked from their DER;
 * any other answer, and every other shape, is OpenSSL's.
 */
export async function verifiedBy(certPem: string, caPem: string): Promise<boolean> {
  return (await verifiedFromDer(certPem, caPem)) || verifiedByOpenSSL(certPem, caPem);
}

/**
 * What X509_check_issued and X509_verify check, for the shapes cert-read.ts reads: the
 * issuer name is the CA's subject (byte for byte), the authority key identifier is the
 * CA's key identifier, the CA's key usage (if any) allows signing certificates, and the
 * ECDSA-SHA256 signature over the to-be-signed bytes verifies with the CA's key.
 * False means "not shown here", never "not issued by it".
 */
export async function verifiedFromDer(certPem: string, caPem: string): Promise<boolean> {
  const cert = certParts(certPem);
  const ca = certParts(caPem);
  if (!cert || !ca || !cert.issuer.equals(ca.subject) || ca.keyCertSign === false) return false;
  if (cert.authorityKeyId && !(ca.keyId && cert.authorityKeyId.equals(ca.keyId))) return false;
  // With a callback, node:crypto verifies on libuv's thread pool: checkCerts checks all
  // certificates at once, and their ~2 000 signatures at 1 000 nodes use every core.
  return new Promise((done) => {
    try {
      verify('sha256', cert.tbs, { key: caPublicKey(ca), dsaEncoding: 'der' }, cert.signature, (e, ok) => done(!e && ok));
    } catch {
      done(false);
    }
  });
}

/** verifiedBy through node:crypto (OpenSSL): the reference. */
export function verifiedByOpenSSL(certPem: string, caPem: string): boolean {
  try {
    const cert = nodeCert(certPem);
    const ca = nodeCert(caPem);
    return cert.checkIssued(ca) && cert.verify(ca.publicKey);
  } catch {
    return false;
  }
}

/** Whether `keyPem` is the private key of the certificate `certPem`. */
export async function keyMatchesCert(keyPem: string, certPem: string): Promise<boolean> {
  // The same public point as a key in k8s-img's shape (whose scalar was checked to give
  // it) settles it; anything else is OpenSSL's to answer.
  const point = ecKeyPoint(keyPem);
  if (point && certParts(certPem)?.point.equals(point)) return true;
  try {
    return nodeCert(certPem).checkPrivateKey(privateKeyObject(keyPem));
  } catch {
    return false;
  }
}

/** Whether `pem` is a private key node:crypto can read. */
export function isPrivateKey(pem: string): boolean {
  if (ecKeyPoint(pem)) return true;
  try {
    privateKeyObject(pem);
    return true;
  } catch {
    return false;
  }
}

// Read once per PEM text: a CA's certificate is checked against each of its ~1 000
// leaves, and every key is read twice (readable? matches its certificate?).
const parsedCerts = new Map<string, CertParts | undefined>();
const ecPoints = new Map<string, Buffer | undefined>();
const caKeys = new Map<CertParts, KeyObject>();
const nodeCerts = new Map<string, NodeX509>();
const keyObjects = new Map<string, KeyObject>();

function certParts(pem: string): CertParts | undefined {
  if (!parsedCerts.has(pem)) parsedCerts.set(pem, readCert(pem));
  return parsedCerts.get(pem);
}

function ecKeyPoint(pem: string): Buffer | undefined {
  if (!ecPoints.has(pem)) ecPoints.set(pem, readEcKey(pem));
  return ecPoints.get(pem);
}

function caPublicKey(ca: CertParts): KeyObject {
  let k = caKeys.get(ca);
  if (!k) caKeys.set(ca, (k = createPublicKey({ key: ca.spki, format: 'der', type: 'spki' })));
  return k;
}

function nodeCert(pem: string): NodeX509 {
  let c = nodeCerts.get(pem);
  if (!c) nodeCerts.set(pem, (c = new NodeX509(pem)));
  return c;
}

/** The private key of `pem` as a node:crypto KeyObject; throws when it is not one. */
export function privateKeyObject(pem: string): KeyObject {
  let k = keyObjects.get(pem);
  if (!k) keyObjects.set(pem, (k = createPrivateKey(pem)));
  return k;
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return subtle.generateKey(EC, true, ['sign', 'verify']);
}

async function exportKey(key: CryptoKey): Promise<string> {
  return pemEncode(new Uint8Array(await subtle.exportKey('pkcs8', key)), 'PRIVATE KEY');
}

async function importPrivateKey(pem: string): Promise<CryptoKey> {
  return subtle.importKey('pkcs8', library().PemConverter.decodeFirst(pem), EC, true, ['sign']);
}

/** WebCrypto cannot derive a public key from a private one; the JWK without `d` is it. */
async function keyPairFromPem(pem: string): Promise<CryptoKeyPair> {
  const privateKey = await importPrivateKey(pem);
  const { d: _d, key_ops: _ops, ...pub } = await subtle.exportKey('jwk', privateKey);
  const publicKey = await subtle.importKey('jwk', pub, EC, true, ['verify']);
  return { privateKey, publicKey };
}

/** O= first, then CN=, as Go and OpenSSL order them; explicit string types so no value is parsed as escapes or hex. */
function subjectName(commonName: string, organizations: string[]): X509.Name {
  const value = (v: string) => (isPrintableString(v) ? { printableString: v } : { utf8String: v });
  return new (library().Name)([...organizations.map((o) => ({ O: [value(o)] })), { CN: [value(commonName)] }]);
}

/** 16 random bytes, top bit clear (positive) and next bit set (no leading zero byte), as RFC 5280 wants. */
function randomSerial(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return Buffer.from(bytes).toString('hex');
}
