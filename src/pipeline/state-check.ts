// State folder integrity, checked before anything is issued or shipped: modes,
// that every certificate parses, chains to its CA and matches its key, that the
// other secrets have their shape, and that the folder belongs to this cluster file.
// A broken key is never shipped to a node: generate and up stop with exit 2.
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { join, resolve } from 'node:path';
import { ConfigError, type Problem } from '../errors.js';
import type { ClusterPlan } from '../plan/types.js';
import { lstatOrUndefined } from '../runtime/fs-errors.js';
import type { StateDir } from '../runtime/state.js';
import { isPrivateKey } from '../pki/x509.js';
import { checkCerts } from './certs.js';

/** The cluster file a state folder belongs to, recorded on first use. */
export const OWNER_FILE = 'cluster-file';

export interface StateProblem extends Problem {
  /** `k8s-img certs renew` repairs it (a leaf certificate; the key stays). */
  renewable: boolean;
}

const MOVE_AWAY = 'or move the folder away to start a new PKI (then recreate the cluster)';

const isSecretFile = (name: string) => !name.endsWith('.crt') && !name.endsWith('.pub');

/** Every problem of the state folder (none when it does not exist yet). */
export async function stateProblems(state: StateDir, plan: ClusterPlan, configPath: string): Promise<StateProblem[]> {
  const dirStat = lstatOrUndefined(state.dir);
  if (dirStat === undefined) return [];
  const problems: StateProblem[] = [];
  const push: Push = (file, message, hint, renewable = false) =>
    problems.push({ path: file === '' ? state.dir : join(state.dir, file), message, hint, severity: 'error', renewable });

  if (!dirStat.isDirectory()) {
    push('', 'is not a folder', `move it away; the state folder holds the cluster's keys`);
    return problems;
  }
  if ((dirStat.mode & 0o077) !== 0) push('', `is mode ${(dirStat.mode & 0o777).toString(8)}; it holds private keys`, `chmod 700 ${state.dir}`);

  const files = new Set([...plan.secrets, ...(plan.pki?.cas.flatMap((c) => [`${c.name}.crt`, `${c.name}.key`]) ?? []), OWNER_FILE]);
  const unusable = new Set<string>();
  for (const name of files) {
    const st = lstatOrUndefined(join(state.dir, name));
    if (st === undefined) continue;
    if (!st.isFile()) {
      push(name, `is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}`, `put the file itself there, ${MOVE_AWAY}`);
      unusable.add(name);
    } else if (st.size > 1024 * 1024) {
      push(name, `is ${st.size} bytes, too large for a key or certificate`, `restore it from a backup, ${MOVE_AWAY}`);
      unusable.add(name);
    } else if (isSecretFile(name) && name !== OWNER_FILE && (st.mode & 0o077) !== 0) {
      push(name, `is mode ${(st.mode & 0o777).toString(8)}: other users can read this secret`, `chmod 600 ${join(state.dir, name)}`);
    }
  }
  if (unusable.size > 0) return problems; // reading them could block or eat memory

  checkOwner(state, configPath, push);
  checkBasicSecrets(state, plan, push);
  if (plan.pki) await checkPki(state, plan, push);
  return problems;
}

type Push = (file: string, message: string, hint: string, renewable?: boolean) => void;

async function checkPki(state: StateDir, plan: ClusterPlan, push: Push): Promise<void> {
  const pki = plan.pki!;
  const isCA = (name: string) => pki.cas.some((c) => c.name === name);
  const restoreCA = (ca: string) => `restore ${ca}.crt and ${ca}.key from a backup, ${MOVE_AWAY}`;
  const reissue = (name: string) => `delete ${name}.crt and ${name}.key; the next generate issues both`;
  const badKeys = new Set<string>();
  for (const name of [...pki.cas.map((c) => c.name), ...pki.leaves.map((l) => l.name)]) {
    const key = state.read(`${name}.key`);
    if (key === undefined || isPrivateKey(key)) continue;
    badKeys.add(name);
    push(`${name}.key`, 'is not a readable private key', isCA(name) ? restoreCA(name) : reissue(name));
  }
  const rows = (await checkCerts(state, plan)).filter((r) => !['ok', 'expires soon', 'expired'].includes(r.status));
  // A broken CA is reported once, not again for every certificate it signed.
  const brokenCAs = new Set([...badKeys, ...rows.filter((r) => r.status !== 'missing').map((r) => r.name)].filter(isCA));
  for (const row of rows) {
    if (badKeys.has(row.name)) continue;
    const keyGone = row.status === 'missing' && row.detail === `no ${row.name}.key`;
    if (row.status === 'missing' && !keyGone) continue; // an absent certificate is simply issued
    const leaf = pki.leaves.find((l) => l.name === row.name);
    if (leaf && brokenCAs.has(leaf.ca)) continue;
    const file = keyGone || row.detail?.startsWith(`${row.name}.key`) ? `${row.name}.key` : `${row.name}.crt`;
    const message = row.detail ?? row.status;
    if (!leaf) push(file, message, restoreCA(row.name));
    else if (row.detail === `no ${leaf.ca}.crt to check it against`) push(file, message, restoreCA(leaf.ca));
    else if (keyGone) push(file, message, reissue(row.name));
    else push(file, message, 'run `k8s-img certs renew` to issue it again from its CA (the key stays)', true);
  }
}

function checkOwner(state: StateDir, configPath: string, push: Push): void {
  const recorded = state.read(OWNER_FILE)?.trim();
  const mine = resolve(configPath);
  if (recorded === undefined || recorded === mine) return;
  // The recorded file is gone (moved or renamed): the folder passes to this one.
  if (lstatOrUndefined(recorded) === undefined) return;
  push(OWNER_FILE, `this state folder belongs to ${recorded}, and ${mine} has the same cluster name`, 'give one of the two clusters another `name:` (or keep the files in separate folders): two clusters must never share a CA');
}

function checkBasicSecrets(state: StateDir, plan: ClusterPlan, push: Push): void {
  const regenerate = (f: string) => `delete ${f}; the next generate makes a new one (then regenerate and redeploy every node)`;
  const saKey = plan.secrets.includes('sa.key') ? state.read('sa.key') : undefined;
  const saPub = plan.secrets.includes('sa.pub') ? state.read('sa.pub') : undefined;
  let derived: string | undefined;
  if (saKey !== undefined) {
    try {
      derived = createPublicKey(createPrivateKey(saKey)).export({ type: 'spki', format: 'pem' }).toString();
    } catch {
      push('sa.key', 'is not a readable private key', 'delete sa.key and sa.pub; the next generate makes a new pair');
    }
  }
  if (saPub !== undefined) {
    let pub: string | undefined;
    try {
      pub = createPublicKey(saPub).export({ type: 'spki', format: 'pem' }).toString();
    } catch {
      push('sa.pub', 'is not a readable public key', 'delete sa.key and sa.pub; the next generate makes a new pair');
    }
    if (pub && derived && pub !== derived) push('sa.pub', 'is not the public key of sa.key', 'delete sa.key and sa.pub; the next generate makes a new pair');
  }
  const enc = plan.secrets.includes('encryption.key') ? state.read('encryption.key') : undefined;
  if (enc !== undefined && Buffer.from(enc.trim(), 'base64').length !== 32) push('encryption.key', 'is not 32 bytes in base64', regenerate('encryption.key'));
  for (const t of plan.secrets.filter((n) => n.startsWith('token-'))) {
    const v = state.read(t);
    if (v !== undefined && !/^[0-9a-f]{48}$/.test(v.trim())) push(t, 'is not a token k8s-img made (48 hexadecimal digits)', regenerate(t));
  }
}

/**
 * Throws ConfigError (exit 2) when the state folder is unusable. With `renewing`,
 * leaf certificate problems are left for `certs renew` to repair.
 */
export async function verifyState(state: StateDir, plan: ClusterPlan, configPath: string, renewing = false): Promise<void> {
  const problems = (await stateProblems(state, plan, configPath)).filter((p) => !(renewing && p.renewable));
  if (problems.length > 0) throw new ConfigError(problems, `state folder ${state.dir}`);
}

/** Records which cluster file the state folder belongs to (on first use). */
export function claimState(state: StateDir, configPath: string): void {
  const mine = resolve(configPath);
  if (state.read(OWNER_FILE)?.trim() !== mine) state.write(OWNER_FILE, `${mine}\n`);
}
