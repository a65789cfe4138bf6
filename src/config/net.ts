// IPv4 address and CIDR arithmetic. Pure; addresses are unsigned 32-bit numbers.

export interface Cidr {
  base: number; // network address
  prefix: number;
  text: string;
}

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

export function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) return undefined;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function formatIPv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** Parses `a.b.c.d/n`; rejects host bits set, so `10.68.0.1/16` is an error. */
export function parseCidr(text: string): Cidr | undefined {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(text);
  if (!m) return undefined;
  const base = parseIPv4(m[1]!);
  const prefix = Number(m[2]);
  if (base === undefined || prefix > 32) return undefined;
  if (base % size(prefix) !== 0) return undefined;
  return { base, prefix, text };
}

export function size(prefix: number): number {
  return 2 ** (32 - prefix);
}

export function contains(c: Cidr, ip: number): boolean {
  return ip >= c.base && ip < c.base + size(c.prefix);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + size(b.prefix) && b.base < a.base + size(a.prefix);
}

/** The n-th address of a network (0 = network address). */
export function nth(c: Cidr, n: number): string {
  return formatIPv4(c.base + n);
}

/** Smallest CIDR of the given prefix that holds ip, e.g. the /24 around a node. */
export function enclosing(ip: number, prefix: number): Cidr {
  const base = ip - (ip % size(prefix));
  return { base, prefix, text: `${formatIPv4(base)}/${prefix}` };
}

/** Why an address cannot be a host's (unspecified, loopback, ...), or undefined when it can. */
export function specialUse(ip: number): string | undefined {
  const first = Math.floor(ip / 2 ** 24);
  if (first === 0) return 'unspecified ("this network", 0.0.0.0/8)';
  if (first === 127) return 'a loopback address (127.0.0.0/8)';
  if (ip === 2 ** 32 - 1) return 'the broadcast address';
  if (first >= 224 && first <= 239) return 'a multicast address (224.0.0.0/4)';
  if (first >= 240) return 'reserved (240.0.0.0/4)';
  return undefined;
}

/** The last address of a network (its broadcast address). */
export function broadcast(c: Cidr): number {
  return c.base + size(c.prefix) - 1;
}
