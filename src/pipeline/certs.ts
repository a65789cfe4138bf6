// `k8s-img certs`: what the state folder's certificates look like, and renewing
// the leaves before they expire (CAs and keys stay, as with `kubeadm certs renew`).
import { ClusterError, UsageError } from '../errors.js';
import type { CAName, PkiPlan } from '../plan/pki.js';
import type { ClusterPlan } from '../plan/types.js';
import { describeCert, issueLeaf, keyMatchesCert, verifiedBy, type KeyPairPem } from '../pki/x509.js';
import type { StateDir } from '../runtime/state.js';

export const EXPIRY_WARNING_DAYS = 30;
const DAY_MS = 86_400_000;

export interface CertRow {
  name: string; // the certificate's file in the state folder, without .crt
  commonName: string;
  issuer: string; // the issuer's common name
  /** For a missing certificate: the epoch, with daysLeft 0. */
  notAfter: Date;
  daysLeft: number;
  status: 'ok' | 'expires soon' | 'expired' | 'missing' | 'bad chain' | 'corrupt';
  /** Why the status is not ok, when the status alone does not say (e.g. which file is missing). */
  detail?: string;
}

/** One row per CA and leaf of the plan, CAs first. */
export async function checkCerts(state: StateDir, plan: ClusterPlan, now = new Date()): Promise<CertRow[]> {
  const pki = requirePki(plan);
  // All at once: the signature checks run on the thread pool (x509.ts), in file order.
  return Promise.all([...pki.cas.map((ca) => checkOne(state, ca.name, undefined, now)), ...pki.leaves.map((leaf) => checkOne(state, leaf.name, leaf.ca, now))]);
}

async function checkOne(state: StateDir, name: string, ca: CAName | undefined, now: Date): Promise<CertRow> {
  const cert = state.read(`${name}.crt`);
  const key = state.read(`${name}.key`);
  if (cert === undefined) return { name, commonName: '', issuer: '', notAfter: new Date(0), daysLeft: 0, status: 'missing', detail: `no ${name}.crt` };
  let info: ReturnType<typeof describeCert>;
  try {
    info = describeCert(cert);
  } catch {
    return { name, commonName: '', issuer: '', notAfter: new Date(0), daysLeft: 0, status: 'corrupt', detail: `${name}.crt is not a readable certificate` };
  }
  const daysLeft = Math.floor((info.notAfter.getTime() - now.getTime()) / DAY_MS);
  const row: CertRow = { name, commonName: info.commonName, issuer: issuerCommonName(info.issuer), notAfter: info.notAfter, daysLeft, status: 'ok' };
  if (key === undefined) return { ...row, status: 'missing', detail: `no ${name}.key` };
  if (!(await keyMatchesCert(key, cert))) return { ...row, status: 'bad chain', detail: `${name}.key is not the key of ${name}.crt` };
  const caCert = ca === undefined ? cert : state.read(`${ca}.crt`);
  if (caCert === undefined) return { ...row, status: 'bad chain', detail: `no ${ca}.crt to check it against` };
  if (!(await verifiedBy(cert, caCert))) return { ...row, status: 'bad chain', detail: ca === undefined ? 'not self-signed' : `not signed by ${ca}` };
  if (info.notAfter.getTime() <= now.getTime()) return { ...row, status: 'expired' };
  if (daysLeft < EXPIRY_WARNING_DAYS) return { ...row, status: 'expires soon' };
  return row;
}

/**
 * Re-issues every leaf of the plan from its CA, keeping each leaf's key.
 * Returns the certificate files written; the bundles must be regenerated to carry them.
 */
export async function renewLeaves(state: StateDir, plan: ClusterPlan, now = new Date()): Promise<string[]> {
  const pki = requirePki(plan);
  // Every CA is checked before anything is written, so a failure changes nothing.
  const cas = new Map<CAName, KeyPairPem>();
  for (const ca of pki.cas) {
    const cert = state.read(`${ca.name}.crt`);
    const key = state.read(`${ca.name}.key`);
    if (pki.leaves.some((l) => l.ca === ca.name) && (cert === undefined || key === undefined)) {
      const absent = [cert === undefined ? `${ca.name}.crt` : '', key === undefined ? `${ca.name}.key` : ''].filter(Boolean).join(' and ');
      throw new ClusterError(
        `cannot renew certificates: ${absent} missing from ${state.dir}`,
        `restore the CA from a backup, or run \`k8s-img generate\` with an empty state folder to start a new PKI (the cluster must then be recreated)`,
      );
    }
    if (cert !== undefined && key !== undefined) cas.set(ca.name, { cert, key });
  }
  const renewed: string[] = [];
  for (const leaf of pki.leaves) {
    const key = state.read(`${leaf.name}.key`);
    const issued = await issueLeaf(leaf, cas.get(leaf.ca)!, now, key);
    if (key === undefined) state.write(`${leaf.name}.key`, issued.key);
    state.write(`${leaf.name}.crt`, issued.cert);
    renewed.push(`${leaf.name}.crt`);
  }
  return renewed;
}

export function formatCertTable(rows: CertRow[]): string {
  const header = ['CERTIFICATE', 'COMMON NAME', 'ISSUER', 'EXPIRES', 'DAYS', 'STATUS'];
  const cells = rows.map((r) => {
    const present = r.notAfter.getTime() !== 0; // a missing certificate has no dates
    return [
      r.name,
      r.commonName || '-',
      r.issuer || '-',
      present ? r.notAfter.toISOString().slice(0, 10) : '-',
      present ? String(r.daysLeft) : '-',
      r.detail ? `${r.status} (${r.detail})` : r.status,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  return [header, ...cells].map((c) => c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]!))).join('  ')).join('\n');
}

function requirePki(plan: ClusterPlan): PkiPlan {
  if (!plan.pki) throw new UsageError(`cluster ${plan.cluster} runs in simple mode: it has no certificates`, 'set `security: { mode: secure }` in the configuration');
  return plan.pki;
}

function issuerCommonName(dn: string): string {
  return /(?:^|,\s*)CN=([^,]*)/.exec(dn)?.[1] ?? dn;
}
