// The part of OpenSSH's client configuration (~/.ssh/config) that ssh2 cannot read
// itself: for the `Host` blocks that match a node, HostName, User, Port and
// IdentityFile, first value wins as in ssh (IdentityFile accumulates). `Match` blocks
// and `Include` are not followed.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { withFsErrors } from './fs-errors.js';

export interface SshConfigHit {
  hostName?: string;
  user?: string;
  port?: number;
  identityFiles: string[];
}

interface Block {
  patterns: string[];
  options: [string, string][];
}

export function parseSshConfig(text: string): Block[] {
  const blocks: Block[] = [{ patterns: ['*'], options: [] }]; // options before any Host apply to all
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(\S+?)(?:\s*=\s*|\s+)(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1]!.toLowerCase();
    const value = m[2]!.replace(/^"(.*)"$/, '$1');
    if (key === 'host') blocks.push({ patterns: value.split(/\s+/), options: [] });
    else if (key === 'match') blocks.push({ patterns: [], options: [] }); // never matches
    else blocks.at(-1)!.options.push([key, value]);
  }
  return blocks;
}

function glob(pattern: string, text: string): boolean {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i').test(text);
}

function matches(b: Block, host: string): boolean {
  let hit = false;
  for (const p of b.patterns) {
    if (p.startsWith('!')) {
      if (glob(p.slice(1), host)) return false;
    } else if (glob(p, host)) hit = true;
  }
  return hit;
}

export function expandHome(path: string, home = homedir()): string {
  return path.replace(/^~(?=\/|$)/, home).replace(/%d/g, home);
}

/** What the configuration says for `host` (the name ssh would be given). */
export function lookupSshConfig(blocks: Block[], host: string, home = homedir()): SshConfigHit {
  const hit: SshConfigHit = { identityFiles: [] };
  for (const b of blocks.filter((x) => matches(x, host))) {
    for (const [key, value] of b.options) {
      if (key === 'hostname') hit.hostName ??= value.replace(/%h/g, host);
      else if (key === 'user') hit.user ??= value;
      else if (key === 'port' && /^\d+$/.test(value)) hit.port ??= Number(value);
      else if (key === 'identityfile') hit.identityFiles.push(expandHome(value, home));
    }
  }
  return hit;
}

export function readUserSshConfig(path = join(homedir(), '.ssh', 'config')): Block[] {
  if (!existsSync(path)) return [];
  return parseSshConfig(withFsErrors(`cannot read ${path}`, () => readFileSync(path, 'utf8')));
}
