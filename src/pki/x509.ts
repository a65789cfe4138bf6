// Thin helpers over @peculiar/x509: ECDSA P-256 keys (PKCS#8 PEM), certificates
// shaped as kubeadm's so Go's TLS stack (apiserver, kubelet, etcd) accepts them.
// @peculiar/x509 v2 loads tsyringe, which needs the Reflect metadata API at import time.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { X509Certificate as NodeX509, createPrivateKey, type KeyObject } from 'node:crypto';
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

/** Signs a leaf with `ca`; with `existingKey` the leaf keeps its key (renewal, as `kubeadm certs renew`). */
export async function issueLeaf(spec: LeafSpec, ca: KeyPairPem, now: Date, existingKey?: string): Promise<KeyPairPem> {
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
