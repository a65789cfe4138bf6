// DER and PEM, the little k8s-img reads and writes itself: elements with definite
// lengths, OIDs, and PEM laid out as @peculiar/x509's PemConverter lays it out.
// Reading throws on anything malformed; callers treat that as "not ours".

/** One DER element of `buf`: its tag, where its contents start, where it ends. */
export interface Element {
  tag: number;
  start: number; // the tag byte
  body: number; // the first byte of the contents
  end: number; // one past the last byte
}

/** One DER element: tag, definite length, contents. */
export function der(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  const n = body.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 0xff] : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...len]), body]);
}

/** An OBJECT IDENTIFIER element from its contents in hex. */
export const oid = (hex: string): Buffer => Buffer.from(`06${(hex.length / 2).toString(16).padStart(2, '0')}${hex}`, 'hex');

/** The element at `at`, which must end by `limit`. */
export function element(buf: Buffer, at: number, limit = buf.length): Element {
  if (at + 2 > limit) throw new Error('DER: truncated');
  const tag = buf[at]!;
  if ((tag & 0x1f) === 0x1f) throw new Error('DER: unsupported tag');
  let len = buf[at + 1]!;
  let body = at + 2;
  if (len & 0x80) {
    const k = len & 0x7f;
    if (k < 1 || k > 3 || body + k > limit) throw new Error('DER: unsupported length');
    len = 0;
    for (let j = 0; j < k; j++) len = len * 256 + buf[body + j]!;
    body += k;
  }
  if (body + len > limit) throw new Error('DER: truncated');
  return { tag, start: at, body, end: body + len };
}

/** The elements that make up the contents of `parent`, which must fill it exactly. */
export function children(buf: Buffer, parent: Element): Element[] {
  const out: Element[] = [];
  for (let i = parent.body; i < parent.end; ) {
    const e = element(buf, i, parent.end);
    out.push(e);
    i = e.end;
  }
  return out;
}

/** The element's bytes, tag and length included. */
export const bytesOf = (buf: Buffer, e: Element): Buffer => buf.subarray(e.start, e.end);
/** The element's contents. */
export const bodyOf = (buf: Buffer, e: Element): Buffer => buf.subarray(e.body, e.end);

/** PEM as PemConverter.encode writes it: 64 characters a line, no newline after the END line. */
export function pemEncode(data: Uint8Array, label: string): string {
  const b64 = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
  const lines = [`-----BEGIN ${label}-----`];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  lines.push(`-----END ${label}-----`);
  return lines.join('\n');
}

/**
 * The DER of `text` when it is exactly one PEM block of `label` as pemEncode writes it
 * (a final newline allowed); undefined for anything else, which callers leave to the
 * general parsers (other line lengths, headers, several blocks, stray text).
 */
export function pemDecode(text: string, label: string): Buffer | undefined {
  const head = `-----BEGIN ${label}-----\n`;
  const tail = `\n-----END ${label}-----`;
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  if (!body.startsWith(head) || !body.endsWith(tail)) return undefined;
  const data = Buffer.from(body.slice(head.length, -tail.length).replaceAll('\n', ''), 'base64');
  return data.length > 0 && pemEncode(data, label) === body ? data : undefined;
}
