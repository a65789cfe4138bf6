// etcd membership changes, run with the etcdctl inside a staying member's container
// (so etcd's client port need not be reachable from this machine). A member leaves
// only when the members that stay keep a healthy quorum.
import { ClusterError } from '../errors.js';
import { names } from '../plan/names.js';
import type { NodeHost } from '../providers/types.js';

export interface EtcdMember {
  id: string; // hex, as etcdctl prints it
  name: string;
  clientURLs: string[];
}

/** `etcdctl member list` (simple output): `id, status, name, peer URLs, client URLs, is learner`. */
export function parseMemberList(text: string): EtcdMember[] {
  return text
    .split('\n')
    .map((l) => l.split(',').map((f) => f.trim()))
    .filter((f) => f.length >= 5 && /^[0-9a-f]+$/.test(f[0]!))
    .map((f) => ({ id: f[0]!, name: f[2]!, clientURLs: f[4]!.split(/\s+/).filter(Boolean) }));
}

/**
 * Whether `leaving` may go: the members that stay must include a healthy majority of
 * themselves (etcd commits the change with the current members' quorum, which those
 * healthy ones also are).
 */
export function quorumAfterRemoval(members: EtcdMember[], healthy: Set<string>, leaving: string): { ok: boolean; detail: string } {
  const staying = members.filter((m) => m.name !== leaving);
  const up = staying.filter((m) => healthy.has(m.name));
  const need = Math.floor(staying.length / 2) + 1;
  if (staying.length === 0) return { ok: false, detail: `${leaving} is the last etcd member` };
  return {
    ok: up.length >= need,
    detail: `${up.length} of the ${staying.length} members that stay are healthy (${up.map((m) => m.name).join(', ') || 'none'}); quorum needs ${need}`,
  };
}

export class EtcdAdmin {
  constructor(
    private readonly host: NodeHost,
    private readonly secure: boolean,
  ) {}

  /** etcdctl with the member's own certificate (its usage covers client auth), against `endpoints` or the local member. */
  private async etcdctl(args: string[], endpoints = [`${this.secure ? 'https' : 'http'}://127.0.0.1:2379`]): Promise<{ code: number; stdout: string; stderr: string }> {
    const pki = '/etc/kubernetes/pki';
    const tls = this.secure ? [`--cacert=${pki}/etcd-ca.crt`, `--cert=${pki}/etcd-server.crt`, `--key=${pki}/etcd-server.key`] : [];
    return this.host.exec(['docker', 'exec', names.service('etcd'), 'etcdctl', `--endpoints=${endpoints.join(',')}`, '--dial-timeout=2s', '--command-timeout=5s', ...tls, ...args]);
  }

  async members(): Promise<EtcdMember[]> {
    const r = await this.etcdctl(['member', 'list']);
    if (r.code !== 0) throw new ClusterError(`etcdctl member list on ${this.host.node} failed: ${r.stderr.trim().split('\n').at(-1)}`, 'is etcd healthy there? (k8s-img status)');
    return parseMemberList(r.stdout);
  }

  /** Names of the members whose client URL answers /health. */
  async healthy(members: EtcdMember[]): Promise<Set<string>> {
    const urls = members.flatMap((m) => m.clientURLs);
    const r = await this.etcdctl(['endpoint', 'health', '-w', 'json'], urls);
    let rows: { endpoint: string; health: boolean }[] = [];
    try {
      rows = JSON.parse(r.stdout) as typeof rows;
    } catch {
      /* none healthy */
    }
    const ok = new Set(rows.filter((x) => x.health).map((x) => x.endpoint));
    return new Set(members.filter((m) => m.clientURLs.some((u) => ok.has(u))).map((m) => m.name));
  }

  async remove(member: EtcdMember): Promise<void> {
    const r = await this.etcdctl(['member', 'remove', member.id]);
    if (r.code !== 0) throw new ClusterError(`etcdctl member remove ${member.name} failed: ${r.stderr.trim().split('\n').at(-1)}`, 'check the etcd members with k8s-img status');
  }
}
