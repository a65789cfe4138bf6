// Certificates and keys in the shapes k8s-img writes, read without an ASN.1 library:
// generate checks every certificate and key of the state folder (~2 000 of each at
// 1 000 nodes), and @peculiar/x509's parser in JavaScript took most of its time.
// The readers accept only those exact shapes (P-256 keys, ECDSA-SHA256, CN and O
// names, the six extensions k8s-img issues) and return undefined for anything else,
// which x509.ts then leaves to the library and OpenSSL: their answers stay the
// reference, and tests compare both on real certificates.
import { createECDH, type ECDH } from 'node:crypto';
import { bodyOf, bytesOf, children, element, oid, pemDecode, type Element } from './der.js';

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

/** A certificate's fields and the parts that checking its signature and key needs. */
export interface CertParts {
  info: CertInfo;
  tbs: Buffer; // the signed bytes
  issuer: Buffer; // the issuer name, verbatim
  subject: Buffer;
  point: Buffer; // the P-256 public key, uncompressed
  spki: Buffer; // SubjectPublicKeyInfo, verbatim
  signature: Buffer; // ECDSA, DER
  keyId?: Buffer; // subject key identifier
  authorityKeyId?: Buffer;
  /** Whether key usage allows signing certificates; undefined without a key usage extension. */
  keyCertSign?: boolean;
}

export const ECDSA_SHA256 = Buffer.from('300a06082a8648ce3d040302', 'hex');
/** SubjectPublicKeyInfo of a P-256 key up to the point's first byte. */
const P256_SPKI = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');
export const OID = {
  CN: oid('550403'),
  O: oid('55040a'),
  basicConstraints: oid('551d13'),
  keyUsage: oid('551d0f'),
  extKeyUsage: oid('551d25'),
  authorityKeyId: oid('551d23'),
  subjectKeyId: oid('551d0e'),
  subjectAltName: oid('551d11'),
  serverAuth: oid('2b06010505070301'),
  clientAuth: oid('2b06010505070302'),
} as const;

const V3 = Buffer.from('a003020102', 'hex'); // [0] { INTEGER 2 }
const TRUE = Buffer.from('0101ff', 'hex');
const CA_TRUE = Buffer.from('30030101ff', 'hex'); // basic constraints: CA, no path length
const CA_FALSE = Buffer.from('3000', 'hex');

/** Whether element `e` of `raw` is exactly the bytes `c`. */
const is = (raw: Buffer, e: Element, c: Buffer): boolean => e.end - e.start === c.length && raw.compare(c, 0, c.length, e.start, e.end) === 0;

/** The characters of an ASN.1 PrintableString (as @peculiar/x509's Name.isPrintableString has them). */
export const isPrintableString = (v: string): boolean => /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(v);

/** Thrown inside the readers for anything outside the shapes; never escapes them. */
class NotOurs extends Error {}
const need: (ok: boolean) => asserts ok = (ok) => {
  if (!ok) throw new NotOurs();
};

/** The certificate of `pem` in one of k8s-img's shapes, or undefined. */
export function readCert(pem: string): CertParts | undefined {
  const raw = pemDecode(pem, 'CERTIFICATE');
  if (!raw) return undefined;
  try {
    return certParts(raw);
  } catch {
    return undefined; // NotOurs, or malformed DER
  }
}

function certParts(raw: Buffer): CertParts {
  const cert = element(raw, 0);
  need(cert.tag === 0x30 && cert.end === raw.length);
  const outer = children(raw, cert);
  need(outer.length === 3);
  const [tbsEl, algEl, sigEl] = outer as [Element, Element, Element];
  need(tbsEl.tag === 0x30 && is(raw, algEl, ECDSA_SHA256) && sigEl.tag === 0x03);
  const sig = bodyOf(raw, sigEl);
  need(sig.length > 1 && sig[0] === 0); // no unused bits

  const f = children(raw, tbsEl);
  need(f.length === 7 || f.length === 8);
  const [version, serial, alg, issuer, validity, subject, spki, exts] = f as [Element, Element, Element, Element, Element, Element, Element, Element | undefined];
  need(is(raw, version, V3));
  need(serial.tag === 0x02 && serial.end > serial.body);
  need(is(raw, alg, ECDSA_SHA256));
  const issuerName = readName(raw, issuer);
  const subjectName = readName(raw, subject);
  need(validity.tag === 0x30);
  const times = children(raw, validity);
  need(times.length === 2);
  const spkiBytes = bytesOf(raw, spki);
  need(spkiBytes.length === P256_SPKI.length + 65 && spkiBytes.subarray(0, P256_SPKI.length).equals(P256_SPKI) && spkiBytes[P256_SPKI.length] === 0x04);

  const info: CertInfo = {
    subject: subjectName.text,
    issuer: issuerName.text,
    commonName: subjectName.cn[0] ?? '',
    organizations: subjectName.o,
    dnsNames: [],
    ipAddresses: [],
    extKeyUsages: [],
    isCA: false,
    notBefore: utcTime(raw, times[0]!),
    notAfter: utcTime(raw, times[1]!),
    serial: serialHex(bodyOf(raw, serial)),
  };
  const parts: CertParts = {
    info,
    tbs: bytesOf(raw, tbsEl),
    issuer: bytesOf(raw, issuer),
    subject: bytesOf(raw, subject),
    point: spkiBytes.subarray(P256_SPKI.length),
    spki: spkiBytes,
    signature: sig.subarray(1),
  };
  if (exts) {
    need(exts.tag === 0xa3);
    const list = children(raw, exts);
    need(list.length === 1 && list[0]!.tag === 0x30);
    const seen = new Set<string>();
    for (const ext of children(raw, list[0]!)) readExtension(raw, ext, parts, seen);
  }
  return parts;
}

/** One extension of the six k8s-img issues, into `parts`; each at most once. */
function readExtension(raw: Buffer, ext: Element, parts: CertParts, seen: Set<string>): void {
  need(ext.tag === 0x30);
  const e = children(raw, ext);
  need(e.length === 2 || (e.length === 3 && is(raw, e[1]!, TRUE)));
  const id = bytesOf(raw, e[0]!);
  const valueEl = e[e.length - 1]!;
  need(valueEl.tag === 0x04);
  const key = id.toString('hex');
  need(!seen.has(key));
  seen.add(key);
  const v = element(raw, valueEl.body, valueEl.end);
  need(v.end === valueEl.end);
  const info = parts.info;
  if (id.equals(OID.basicConstraints)) {
    // SEQUENCE {} or SEQUENCE { TRUE }: no path length
    info.isCA = is(raw, v, CA_TRUE);
    need(info.isCA || is(raw, v, CA_FALSE));
  } else if (id.equals(OID.keyUsage)) {
    const bits = bodyOf(raw, v);
    need(v.tag === 0x03 && (bits.length === 2 || bits.length === 3) && bits[0]! < 8);
    parts.keyCertSign = (bits[1]! & 0x04) !== 0;
  } else if (id.equals(OID.extKeyUsage)) {
    need(v.tag === 0x30);
    const usages = children(raw, v).map((u) => bytesOf(raw, u));
    need(usages.length > 0 && usages.every((u) => u.equals(OID.serverAuth) || u.equals(OID.clientAuth)));
    // As describeCert lists them: serverAuth first, then clientAuth, whatever the certificate's order.
    if (usages.some((u) => u.equals(OID.serverAuth))) info.extKeyUsages.push('serverAuth');
    if (usages.some((u) => u.equals(OID.clientAuth))) info.extKeyUsages.push('clientAuth');
  } else if (id.equals(OID.authorityKeyId)) {
    need(v.tag === 0x30);
    const items = children(raw, v);
    need(items.length === 1 && items[0]!.tag === 0x80);
    parts.authorityKeyId = bodyOf(raw, items[0]!);
  } else if (id.equals(OID.subjectKeyId)) {
    need(v.tag === 0x04);
    parts.keyId = bodyOf(raw, v);
  } else if (id.equals(OID.subjectAltName)) {
    need(v.tag === 0x30);
    const names = children(raw, v);
    need(names.length > 0);
    for (const n of names) {
      const b = bodyOf(raw, n);
      if (n.tag === 0x82) {
        need(b.length > 0 && b.every((c) => c > 0x20 && c < 0x7f));
        info.dnsNames.push(b.toString('latin1'));
      } else {
        need(n.tag === 0x87 && b.length === 4); // IPv4; IPv6 is left to the library
        info.ipAddresses.push(`${b[0]}.${b[1]}.${b[2]}.${b[3]}`);
      }
    }
  } else {
    need(false);
  }
}

interface NameFields {
  text: string;
  cn: string[];
  o: string[];
}
/** Names read so far, by their DER (every leaf repeats its CA's). */
const names = new Map<string, NameFields>();

/** A name of CN and O attributes, one per RDN, with the library's text for it. */
function readName(raw: Buffer, name: Element): NameFields {
  const key = raw.toString('latin1', name.start, name.end);
  let fields = names.get(key);
  if (!fields) names.set(key, (fields = parseName(raw, name)));
  return { text: fields.text, cn: [...fields.cn], o: [...fields.o] };
}

function parseName(raw: Buffer, name: Element): NameFields {
  need(name.tag === 0x30);
  const cn: string[] = [];
  const o: string[] = [];
  const text: string[] = [];
  for (const rdn of children(raw, name)) {
    need(rdn.tag === 0x31);
    const attrs = children(raw, rdn);
    need(attrs.length === 1 && attrs[0]!.tag === 0x30);
    const tv = children(raw, attrs[0]!);
    need(tv.length === 2);
    const type = bytesOf(raw, tv[0]!);
    const value = directoryString(raw, tv[1]!);
    if (type.equals(OID.CN)) {
      cn.push(value);
      text.push(`CN=${escapeValue(value)}`);
    } else {
      need(type.equals(OID.O));
      o.push(value);
      text.push(`O=${escapeValue(value)}`);
    }
  }
  return { text: text.join(', '), cn, o };
}

/** PrintableString or UTF8String (valid UTF-8 only). */
function directoryString(raw: Buffer, e: Element): string {
  const b = bodyOf(raw, e);
  if (e.tag === 0x13) {
    const s = b.toString('latin1');
    need(isPrintableString(s));
    return s;
  }
  need(e.tag === 0x0c);
  const s = b.toString('utf8');
  need(Buffer.from(s, 'utf8').equals(b));
  return s;
}

/** @peculiar/x509's Name escaping (RFC 4514 specials; only the first CR, LF or tab, as there). */
function escapeValue(v: string): string {
  if (!/[,+"\\<>;\r\n\t]|^[ #]| $/.test(v)) return v;
  return v
    .replace(/([,+"\\<>;])/g, '\\$1')
    .replace(/^([ #])/, '\\$1')
    .replace(/([ ]$)/, '\\$1')
    .replace(/([\r\n\t])/, (c) => `\\${Buffer.from(c, 'utf8').toString('hex').toUpperCase()}`);
}

/** UTCTime YYMMDDHHMMSSZ, years 50–99 in the 1900s (RFC 5280); GeneralizedTime is left to the library. */
function utcTime(raw: Buffer, e: Element): Date {
  const t = bodyOf(raw, e).toString('latin1');
  need(e.tag === 0x17 && /^\d{12}Z$/.test(t));
  const n = (i: number) => Number(t.slice(i, i + 2));
  const year = n(0) >= 50 ? 1900 + n(0) : 2000 + n(0);
  return new Date(Date.UTC(year, n(2) - 1, n(4), n(6), n(8), n(10)));
}

/** The serial in hex, as the library gives it: a sign byte before a high bit dropped. */
function serialHex(b: Buffer): string {
  return (b.length > 1 && b[0] === 0 && b[1]! > 0x7f ? b.subarray(1) : b).toString('hex');
}

/** PKCS#8 of a P-256 key with its public key, as node:crypto and WebCrypto export it. */
const PKCS8_HEAD = Buffer.from('308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420', 'hex');
const PKCS8_MID = Buffer.from('a144034200', 'hex');
let ecdh: ECDH | undefined;

/**
 * The public point of `pem` when it is a P-256 private key in k8s-img's PKCS#8 shape
 * whose private scalar gives the public key it carries; undefined for anything else.
 */
export function readEcKey(pem: string): Buffer | undefined {
  const raw = pemDecode(pem, 'PRIVATE KEY');
  if (!raw || raw.length !== PKCS8_HEAD.length + 32 + PKCS8_MID.length + 65) return undefined;
  if (!raw.subarray(0, PKCS8_HEAD.length).equals(PKCS8_HEAD) || !raw.subarray(PKCS8_HEAD.length + 32, PKCS8_HEAD.length + 32 + PKCS8_MID.length).equals(PKCS8_MID)) return undefined;
  const point = raw.subarray(raw.length - 65);
  if (point[0] !== 0x04) return undefined;
  try {
    // Derives d·G (setPrivateKey refuses a scalar out of range): a check OpenSSL's own
    // reading of the file does not make, so anything it passes, the general reader passes.
    // One ECDH object for all keys: making one sets up the curve, which costs more than the key.
    ecdh ??= createECDH('prime256v1');
    ecdh.setPrivateKey(raw.subarray(PKCS8_HEAD.length, PKCS8_HEAD.length + 32));
    return ecdh.getPublicKey().equals(point) ? point : undefined;
  } catch {
    return undefined;
  }
}
