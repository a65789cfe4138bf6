// The cluster's secrets on disk: created once, then reused, so regenerating
// bundles never breaks a running cluster. Keys are mode 0600, the folder 0700.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { ClusterPlan } from '../plan/types.js';
import type { Secrets } from '../render/bundle.js';
import { ConfigError } from '../errors.js';
import { writeFileAtomic } from './files.js';
import { fsError, withFsErrors } from './fs-errors.js';
import { fileStampStore, type StampStore } from './tree-stamps.js';

const MAX_STATE_FILE = 1024 * 1024;

export interface SecretIssuer {
  /**
   * Makes the secrets in `names` that are missing from `have`; returns the new ones.
   * `state` gives access to what bundles never carry (e.g. the etcd CA's key).
   */
  issue(plan: ClusterPlan, names: string[], have: Secrets, state: StateDir): Promise<Record<string, string>> | Record<string, string>;
  /** Secrets that exist but no longer fit the plan (a certificate whose names changed): they are issued again. */
  outdated?(plan: ClusterPlan, have: Secrets): string[];
}

/** Service-account key pair, the Secrets encryption key and simple mode's static tokens; certificates come from pki. */
export const basicIssuer: SecretIssuer = {
  issue(_plan, names) {
    const out: Record<string, string> = {};
    if (names.includes('sa.key') || names.includes('sa.pub')) {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      out['sa.key'] = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      out['sa.pub'] = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    }
    if (names.includes('encryption.key')) out['encryption.key'] = randomBytes(32).toString('base64');
    for (const n of names.filter((x) => x.startsWith('token-'))) out[n] = randomBytes(24).toString('hex');
    return out;
  },
};

/** Where `up` keeps the local cluster's bundles. */
export function bundlesDir(state: StateDir): string {
  return join(state.dir, 'bundles');
}

/** The stamps of the bundle folder generate last found unchanged (tree-stamps.ts), kept beside the keys. */
export function bundleStamps(state: StateDir): StampStore {
  return fileStampStore(join(state.dir, 'bundle-stamps'));
}

/** The admin kubeconfig generate writes beside the keys (never into a node's bundle). */
export function adminKubeconfigPath(state: StateDir): string {
  return join(state.dir, 'kubeconfig');
}

export class StateDir {
  /** The files read so far, when this instance remembers them (remembering()). */
  private memo: Map<string, string | undefined> | undefined;

  constructor(readonly dir: string) {}

  /**
   * The same folder, each file read from disk once: generate checks every key and
   * certificate and then ships them (at 1 000 nodes ~4 000 files, read three times
   * over otherwise). Writes go through it, and what was checked is what is shipped.
   */
  remembering(): StateDir {
    const s = new StateDir(this.dir);
    s.memo = new Map();
    return s;
  }

  /** A file's text, or undefined when absent. Never follows a link or opens a FIFO or device. */
  read(name: string): string | undefined {
    if (this.memo?.has(name)) return this.memo.get(name);
    const text = this.readFile(name);
    this.memo?.set(name, text);
    return text;
  }

  private readFile(name: string): string | undefined {
    const p = join(this.dir, name);
    let st: Stats;
    try {
      st = lstatSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw fsError(e, `cannot read ${p}`);
    }
    if (!st.isFile() || st.size > MAX_STATE_FILE) {
      throw new ConfigError([{ path: p, message: 'is not a regular file of at most 1 MiB', hint: 'restore it from a backup, or move the state folder away', severity: 'error' }], `state folder ${this.dir}`);
    }
    return withFsErrors(`cannot read ${p}`, () => readFileSync(p, 'utf8'));
  }

  write(name: string, content: string): void {
    withFsErrors(`cannot create the state folder ${this.dir}`, () => mkdirSync(this.dir, { recursive: true, mode: 0o700 }));
    writeFileAtomic(join(this.dir, name), content, name.endsWith('.crt') || name.endsWith('.pub') ? 0o644 : 0o600);
    this.memo?.set(name, content);
  }

  /** Every secret the plan references: read from disk, the missing ones issued and saved. */
  async ensure(plan: ClusterPlan, issuers: SecretIssuer[]): Promise<Secrets> {
    const have: Record<string, string> = {};
    for (const name of plan.secrets) {
      const v = this.read(name);
      if (v !== undefined) have[name] = v;
    }
    for (const issuer of issuers) for (const name of issuer.outdated?.(plan, have) ?? []) delete have[name];
    for (const issuer of issuers) {
      const missing = plan.secrets.filter((n) => have[n] === undefined);
      if (missing.length === 0) break;
      for (const [name, v] of Object.entries(await issuer.issue(plan, missing, have, this))) {
        if (have[name] !== undefined) continue;
        this.write(name, v);
        have[name] = v;
      }
    }
    const still = plan.secrets.filter((n) => have[n] === undefined);
    if (still.length > 0) throw new Error(`no issuer makes: ${still.join(', ')}`); // a programming error, not the user's
    return have;
  }
}
