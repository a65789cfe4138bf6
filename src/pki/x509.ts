// Thin helpers over @peculiar/x509: ECDSA P-256 keys (PKCS#8 PEM), certificates
// shaped as kubeadm's so Go's TLS stack (apiserver, kubelet, etcd) accepts them.
// @peculiar/x509 v2 loads tsyringe, which needs the Reflect metadata API at import time.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { X509Certificate as NodeX509, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { CA_YEARS, LEAF_DAYS, type CASpec, type LeafSpec } from '../plan/pki.js';

x509.cryptoProvider.set(globalThis.crypto);

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

export type ExtKeyUsageName = 'serverAuth' | 'clientAuth';

export interface CertInfo {
  subject: string;
  issuer: string;
  commonName: string;
  organizations: string[];
  dnsNames: string[];
  ipAddresses: string[];
  extKeyUsages: ExtKeyUsageName[];
  isCA: boolean;
  notBefore: Date;
  notAfter: Date;
  serial: string; // hexadecimal
}

export async function createCA(spec: CASpec, now: Date): Promise<KeyPairPem> {
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
  return { cert: x509.PemConverter.encode(new Uint8Array(cert), 'CERTIFICATE'), key: existingKey ?? x509.PemConverter.encode(new Uint8Array(privateKey.export({ type: 'pkcs8', format: 'der' })), 'PRIVATE KEY') };
}

/** The to-be-signed part of a leaf certificate, as X509CertificateGenerator lays it out. */
export function leafTbs(spec: LeafSpec, ca: { subject: Buffer; keyId: Buffer }, spki: Buffer, serialHex: string, now: Date): Buffer {
  const usages = { client: [CLIENT_AUTH], server: [SERVER_AUTH], both: [SERVER_AUTH, CLIENT_AUTH] }[spec.usage];
  const extensions = [
    extension(OID_BASIC_CONSTRAINTS, true, der(0x30)),
    extension(OID_KEY_USAGE, true, Buffer.from([0x03, 0x02, 0x05, 0xa0])), // digitalSignature, keyEncipherment
    extension(OID_EXT_KEY_USAGE, false, der(0x30, ...usages)),
    extension(OID_AUTHORITY_KEY_ID, false, der(0x30, der(0x80, ca.keyId))),
    extension(OID_SUBJECT_KEY_ID, false, der(0x04, keyIdOf(spki))),
  ];
  const altNames = [...spec.dnsNames.map((n) => der(0x82, Buffer.from(n, 'ascii'))), ...spec.ipAddresses.map((ip) => der(0x87, Buffer.from(ip.split('.').map(Number))))];
  if (altNames.length > 0) extensions.push(extension(OID_SUBJECT_ALT_NAME, false, der(0x30, ...altNames)));
  const attr = (oid: Buffer, v: string) => der(0x31, der(0x30, oid, der(x509.Name.isPrintableString(v) ? 0x13 : 0x0c, Buffer.from(v, 'utf8'))));
  const subject = der(0x30, ...spec.organizations.map((o) => attr(OID_O, o)), attr(OID_CN, spec.commonName));
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

const oid = (hex: string) => Buffer.from(`06${(hex.length / 2).toString(16).padStart(2, '0')}${hex}`, 'hex');
const OID_O = oid('55040a');
const OID_CN = oid('550403');
const OID_BASIC_CONSTRAINTS = oid('551d13');
const OID_KEY_USAGE = oid('551d0f');
const OID_EXT_KEY_USAGE = oid('551d25');
const OID_AUTHORITY_KEY_ID = oid('551d23');
const OID_SUBJECT_KEY_ID = oid('551d0e');
const OID_SUBJECT_ALT_NAME = oid('551d11');
const SERVER_AUTH = oid('2b06010505070301');
const CLIENT_AUTH = oid('2b06010505070302');
const ECDSA_SHA256 = der(0x30, oid('2a8648ce3d040302'));

function extension(id: Buffer, critical: boolean, value: Buffer): Buffer {
  return der(0x30, id, ...(critical ? [Buffer.from([0x01, 0x01, 0xff])] : []), der(0x04, value));
}

/** One DER element: tag, definite length, contents. */
function der(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  const n = body.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 0xff] : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...len]), body]);
}

function utcTime(d: Date): Buffer {
  const two = (n: number) => String(n).padStart(2, '0');
  const text = `${two(d.getUTCFullYear() % 100)}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}Z`;
  return der(0x17, Buffer.from(text, 'ascii'));
}

/** The elements inside the DER element at `at` (its tag's contents). */
function children(buf: Buffer, at = 0): { start: number; end: number; tag: number }[] {
  const out: { start: number; end: number; tag: number }[] = [];
  const [start, end] = contentRange(buf, at);
  for (let i = start; i < end; ) {
    const [, e] = contentRange(buf, i);
    out.push({ start: i, end: e, tag: buf[i]! });
    i = e;
  }
  return out;
}

/** [start of contents, end of the element] of the DER element at `at`. */
function contentRange(buf: Buffer, at: number): [number, number] {
  let len = buf[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const k = len & 0x7f;
    if (k < 1 || k > 3) throw new Error('DER: unsupported length');
    len = 0;
    for (let j = 0; j < k; j++) len = (len << 8) | buf[start + j]!;
    start += k;
  }
  if (start + len > buf.length) throw new Error('DER: truncated');
  return [start, start + len];
}

/** SHA-1 of the subject public key's bits, as SubjectKeyIdentifierExtension.create computes it. */
function keyIdOf(spki: Buffer): Buffer {
  const bits = children(spki)[1]!;
  const [start, end] = contentRange(spki, bits.start);
  return createHash('sha1').update(spki.subarray(start + 1, end)).digest();
}

interface CASigner {
  subject: Buffer; // the CA's subject, verbatim
  keyId: Buffer; // its subject key identifier
  key: KeyObject;
}
const signers = new Map<string, CASigner | undefined>();

/** What signing with `ca` needs, read once per CA; undefined when its certificate has no subject key identifier. */
export function caSigner(ca: KeyPairPem): CASigner | undefined {
  const memo = `${ca.cert}\0${ca.key}`;
  if (signers.has(memo)) return signers.get(memo);
  let signer: CASigner | undefined;
  try {
    const raw = Buffer.from(x509.PemConverter.decodeFirst(ca.cert));
    const tbs = children(raw)[0]!;
    const fields = children(raw, tbs.start);
    // version, serial, signature algorithm, issuer, validity, subject, key, [3] extensions
    if (fields[0]?.tag !== 0xa0) throw new Error('not a v3 certificate');
    const subject = raw.subarray(fields[5]!.start, fields[5]!.end);
    const exts = fields.find((f) => f.tag === 0xa3);
    let keyId: Buffer | undefined;
    for (const ext of exts ? children(raw, children(raw, exts.start)[0]!.start) : []) {
      const parts = children(raw, ext.start);
      if (!raw.subarray(parts[0]!.start, parts[0]!.end).equals(OID_SUBJECT_KEY_ID)) continue;
      const value = parts[parts.length - 1]!;
      const inner = contentRange(raw, value.start)[0];
      const [s, e] = contentRange(raw, inner);
      keyId = Buffer.from(raw.subarray(s, e));
    }
    if (keyId) signer = { subject: Buffer.from(subject), keyId, key: privateKeyObject(ca.key) };
  } catch {
    signer = undefined;
  }
  signers.set(memo, signer);
  return signer;
}

/** issueLeaf through @peculiar/x509 (the reference for its bytes). */
export async function issueLeafWithLibrary(spec: LeafSpec, ca: KeyPairPem, now: Date, existingKey?: string): Promise<KeyPairPem> {
  const caCert = new x509.X509Certificate(ca.cert);
  const caKey = await importPrivateKey(ca.key);
  const keys = existingKey === undefined ? await generateKeys() : await keyPairFromPem(existingKey);
  const caKeyId = caCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const usages = {
    client: [x509.ExtendedKeyUsage.clientAuth],
    server: [x509.ExtendedKeyUsage.serverAuth],
    both: [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
  }[spec.usage];
  const extensions: x509.Extension[] = [
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

const described = new Map<string, CertInfo>();

/** The certificate's fields (remembered per PEM text: generate reads each twice). */
export function describeCert(pem: string): CertInfo {
  let info = described.get(pem);
  if (!info) described.set(pem, (info = parseCert(pem)));
  return info;
}

function parseCert(pem: string): CertInfo {
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

/** Whether `caPem` issued `certPem`: issuer name matches and the signature checks out (dates are not checked). */
export async function verifiedBy(certPem: string, caPem: string): Promise<boolean> {
  // node:crypto (OpenSSL) rather than the ASN.1 parser in JavaScript: generate checks
  // every certificate of the state folder, ~2 000 on a 1 000-node cluster.
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
  try {
    return nodeCert(certPem).checkPrivateKey(privateKeyObject(keyPem));
  } catch {
    return false;
  }
}

// Parsed once per PEM text: a CA's certificate is checked against each of its ~1 000
// leaves, and every key is read twice (readable? matches its certificate?).
const nodeCerts = new Map<string, NodeX509>();
const keyObjects = new Map<string, KeyObject>();

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
  return x509.PemConverter.encode(await subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

async function importPrivateKey(pem: string): Promise<CryptoKey> {
  return subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(pem), EC, true, ['sign']);
}

/** WebCrypto cannot derive a public key from a private one; the JWK without `d` is it. */
async function keyPairFromPem(pem: string): Promise<CryptoKeyPair> {
  const privateKey = await importPrivateKey(pem);
  const { d: _d, key_ops: _ops, ...pub } = await subtle.exportKey('jwk', privateKey);
  const publicKey = await subtle.importKey('jwk', pub, EC, true, ['verify']);
  return { privateKey, publicKey };
}

/** O= first, then CN=, as Go and OpenSSL order them; explicit string types so no value is parsed as escapes or hex. */
function subjectName(commonName: string, organizations: string[]): x509.Name {
  const value = (v: string) => (x509.Name.isPrintableString(v) ? { printableString: v } : { utf8String: v });
  return new x509.Name([...organizations.map((o) => ({ O: [value(o)] })), { CN: [value(commonName)] }]);
}

/** 16 random bytes, top bit clear (positive) and next bit set (no leading zero byte), as RFC 5280 wants. */
function randomSerial(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return Buffer.from(bytes).toString('hex');
}
