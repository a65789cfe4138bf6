// What is deployed where, as last done: the nodes that run the cluster's stack (with
// their roles and, for real machines, how they were reached). Kept in the state folder
// and updated node by node, so a re-run continues where one stopped, and a node that
// left cluster.yaml can still be found to be drained, removed and torn down.
import { join } from 'node:path';
import type { Role } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import type { SshTarget } from './ssh.js';
import type { StateDir } from './state.js';

export const RECORD_FILE = 'nodes.json';

export interface RecordedNode {
  name: string;
  address: string;
  roles: Role[];
  /** Its bundle and image archive as deployed: when they change, the node is updated in a rolling way. */
  digest?: string;
  ssh?: SshTarget;
}

export interface DeployRecord {
  provider: 'local' | 'ssh';
  nodes: RecordedNode[];
  /**
   * What the last complete up, deploy or upgrade brought every node to: the Kubernetes
   * version (an edited kubernetesVersion is an upgrade) and the configuration without it
   * (plan/upgrade.ts appliedConfig: an upgrade must be the only change of a run).
   */
  applied?: { kubernetesVersion: string; config: Record<string, unknown> };
}

export function readRecord(state: StateDir): DeployRecord | undefined {
  const text = state.read(RECORD_FILE);
  if (text === undefined) return undefined;
  try {
    const r = JSON.parse(text) as DeployRecord;
    if ((r.provider === 'local' || r.provider === 'ssh') && Array.isArray(r.nodes)) return r;
  } catch {
    /* reported below */
  }
  throw new ConfigError(
    [{ path: join(state.dir, RECORD_FILE), severity: 'error', message: 'is not a record k8s-img wrote', hint: 'restore it, or delete it if no node runs this cluster any more' }],
    `state folder ${state.dir}`,
  );
}

export function writeRecord(state: StateDir, record: DeployRecord): void {
  state.write(RECORD_FILE, `${JSON.stringify({ ...record, nodes: [...record.nodes].sort((a, b) => (a.name < b.name ? -1 : 1)) }, null, 2)}\n`);
}

/** Adds or replaces one node (after it was deployed). */
export function recordNode(state: StateDir, provider: DeployRecord['provider'], node: RecordedNode): void {
  const r = readRecord(state) ?? { provider, nodes: [] };
  writeRecord(state, { ...r, provider, nodes: [...r.nodes.filter((n) => n.name !== node.name), node] });
}

export function forgetNode(state: StateDir, name: string): void {
  const r = readRecord(state);
  if (!r) return;
  const nodes = r.nodes.filter((n) => n.name !== name);
  // With the last node gone nothing runs any version (the next up starts afresh).
  writeRecord(state, nodes.length > 0 ? { ...r, nodes } : { provider: r.provider, nodes });
}

export function clearRecord(state: StateDir): void {
  const r = readRecord(state);
  if (r) writeRecord(state, { provider: r.provider, nodes: [] });
}

/** After every node runs what cluster.yaml says (up, deploy, upgrade). */
export function recordApplied(state: StateDir, applied: NonNullable<DeployRecord['applied']>): void {
  const r = readRecord(state);
  if (r) writeRecord(state, { ...r, applied });
}
