// OpenSSH's known_hosts, read and appended the way ssh does: plain and hashed host
// names (`|1|salt|hash`), `[host]:port` for other ports, patterns with * ? and !,
// @revoked keys. A host key is accepted only when a line names it; an unknown host
// is accepted (and recorded) only when the user says --accept-new; a changed key never.
import { createHash, createHmac } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { withFsErrors } from './fs-errors.js';

interface Entry {
  marker?: '@revoked' | '@cert-authority';
  /** Comma-separated patterns, or a hashed name. */
  hosts: { patterns: string[] } | { salt: Buffer; hash: Buffer };
  keyType: string;
  key: string; // base64 of the key blob
}

export type HostKeyVerdict =
  | { kind: 'known' }
  | { kind: 'unknown' }
  | { kind: 'changed'; expected: string[] }
  | { kind: 'revoked' };

/** The name known_hosts uses for a host: `host`, or `[host]:port` when the port is not 22. */
export function hostToken(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

export function parseKnownHosts(text: string): Entry[] {
  const out: Entry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    const marker = fields[0] === '@revoked' || fields[0] === '@cert-authority' ? (fields.shift() as Entry['marker']) : undefined;
    const [hosts, keyType, key] = fields;
    if (!hosts || !keyType || !key) continue;
    const hashed = /^\|1\|([^|]+)\|([^|]+)$/.exec(hosts);
    out.push({
      ...(marker ? { marker } : {}),
      hosts: hashed ? { salt: Buffer.from(hashed[1]!, 'base64'), hash: Buffer.from(hashed[2]!, 'base64') } : { patterns: hosts.split(',') },
      keyType,
      key,
    });
  }
  return out;
}

function glob(pattern: string, text: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return re.test(text);
}

function names(e: Entry, token: string): boolean {
  if ('salt' in e.hosts) return createHmac('sha1', e.hosts.salt).update(token).digest().equals(e.hosts.hash);
  let hit = false;
  for (const p of e.hosts.patterns) {
    if (p.startsWith('!')) {
      if (glob(p.slice(1), token)) return false;
    } else if (glob(p, token)) hit = true;
  }
  return hit;
}

/** The key type inside an SSH key blob (its first string). */
export function keyTypeOf(blob: Buffer): string {
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('ascii');
}

/** `SHA256:...` as `ssh-keygen -l` prints it. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

export function judgeHostKey(entries: Entry[], token: string, blob: Buffer): HostKeyVerdict {
  const key = blob.toString('base64');
  const mine = entries.filter((e) => e.marker !== '@cert-authority' && names(e, token));
  if (mine.some((e) => e.marker === '@revoked' && e.key === key)) return { kind: 'revoked' };
  const plain = mine.filter((e) => !e.marker);
  if (plain.some((e) => e.key === key)) return { kind: 'known' };
  if (plain.length === 0) return { kind: 'unknown' };
  return { kind: 'changed', expected: plain.map((e) => `${e.keyType} ${fingerprint(Buffer.from(e.key, 'base64'))}`) };
}

/** Key types recorded for a host: offered first, so a host with several keys shows the one we know. */
export function knownKeyTypes(entries: Entry[], token: string): string[] {
  return [...new Set(entries.filter((e) => !e.marker && names(e, token)).map((e) => e.keyType))];
}

export class KnownHostsFile {
  private entries: Entry[];
  constructor(readonly path: string) {
    this.entries = existsSync(path) ? parseKnownHosts(withFsErrors(`cannot read ${path}`, () => readFileSync(path, 'utf8'))) : [];
  }

  judge(host: string, port: number, blob: Buffer): HostKeyVerdict {
    return judgeHostKey(this.entries, hostToken(host, port), blob);
  }

  keyTypes(host: string, port: number): string[] {
    return knownKeyTypes(this.entries, hostToken(host, port));
  }

  /** Records a key as ssh's accept-new does (a plain line). */
  add(host: string, port: number, blob: Buffer): void {
    const line = `${hostToken(host, port)} ${keyTypeOf(blob)} ${blob.toString('base64')}\n`;
    withFsErrors(`cannot write ${this.path}`, () => {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      // A last line without its newline would swallow ours.
      const open = existsSync(this.path) && statSync(this.path).size > 0 && !readFileSync(this.path, 'utf8').endsWith('\n');
      appendFileSync(this.path, `${open ? '\n' : ''}${line}`, { mode: 0o600 });
    });
    this.entries.push(...parseKnownHosts(line));
  }
}
