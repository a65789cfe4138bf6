// The BGP mesh as `calicoctl node status` reports it on a node, read into data
// and judged against the plan: every other node must be a peer in state
// Established. Pure: status.ts runs the command.
import type { ClusterPlan, NodePlan } from '../plan/types.js';

export interface BgpPeer {
  address: string;
  type: string; // "node-to-node mesh", "global", "node specific"
  state: string; // BIRD's protocol state: up, start, down
  since: string;
  info: string; // the BGP state (Established, Active, Connect, ...) and any message
}

/** Rows of the IPv4 table of `calicoctl node status` (IPv6 peers are not used by k8s-img). */
export function parseNodeStatus(text: string): BgpPeer[] {
  const v4 = text.split(/^IPv6 BGP status/m)[0]!;
  const peers: BgpPeer[] = [];
  for (const line of v4.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    // | PEER ADDRESS | PEER TYPE | STATE | SINCE | INFO |  → ['', addr, type, state, since, info, '']
    if (cells.length !== 7 || !/^\d+\.\d+\.\d+\.\d+$/.test(cells[1]!)) continue;
    peers.push({ address: cells[1]!, type: cells[2]!, state: cells[3]!, since: cells[4]!, info: cells[5]! });
  }
  return peers;
}

export interface BgpVerdict {
  ok: boolean;
  detail: string;
}

/** The mesh seen from `node`: a session with each other node of the plan, all Established. */
export function judgeMesh(plan: ClusterPlan, node: NodePlan, peers: BgpPeer[]): BgpVerdict {
  const expected = plan.nodes.filter((n) => n.name !== node.name);
  const parts: string[] = [];
  let ok = true;
  for (const n of expected) {
    const p = peers.find((x) => x.address === n.address);
    const established = p?.info.split(/\s+/)[0] === 'Established';
    ok &&= established;
    parts.push(p ? `${n.name} ${p.address} ${p.info}${established ? ` since ${p.since}` : ` (${p.state})`}` : `${n.name} ${n.address} no session`);
  }
  const unexpected = peers.filter((p) => !expected.some((n) => n.address === p.address));
  for (const p of unexpected) parts.push(`${p.address} (${p.type}) ${p.info}`);
  return { ok, detail: expected.length === 0 ? 'no other node to peer with' : parts.join(', ') };
}
