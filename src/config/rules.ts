// Cross-field rules over the resolved configuration. Each rule pushes problems;
// none stops at the first, so the user sees everything wrong in one run.
import type { Problem } from '../errors.js';
import { DEFAULTS, type ResolvedConfig } from './defaults.js';
import { durationSeconds } from './duration.js';
import { broadcast, contains, enclosing, nth, overlaps, parseCidr, parseIPv4, specialUse, type Cidr } from './net.js';
import type { SshConfig } from './schema.js';
import { ABSOLUTE_PATH, DNS_DOMAIN, DNS_LABEL, IMAGE_PREFIX, IMAGE_REFERENCE, KEY_PATH, SSH_USER, URL_PATTERN, quote } from './patterns.js';
import { SUPPORTED_RELEASES, findRelease } from './versions.js';

type Push = (path: string, message: string, hint?: string, severity?: Problem['severity']) => void;


export function checkRules(c: ResolvedConfig): Problem[] {
  const problems: Problem[] = [];
  const push: Push = (path, message, hint, severity = 'error') =>
    problems.push({ path, message, severity, ...(hint ? { hint } : {}) });

  checkIdentity(c, push);
  checkNodes(c, push);
  checkNetworks(c, push);
  checkSources(c, push);
  checkSsh('ssh', c.ssh, push);
  c.nodes.forEach((n, i) => checkSsh(`nodes[${i}].ssh`, n.ssh, push));
  checkPodSecurity(c, push);
  checkEtcdSnapshots(c, push);
  return problems;
}

function checkSsh(path: string, ssh: SshConfig | undefined, push: Push): void {
  if (!ssh) return;
  if (ssh.user !== undefined && !SSH_USER.test(ssh.user)) {
    push(`${path}.user`, `${quote(ssh.user)} is not a user name`, 'use the login name on the machine: lowercase letters, digits, "_", "." and "-", e.g. root');
  }
  if (ssh.port !== undefined && (!Number.isInteger(ssh.port) || ssh.port < 1 || ssh.port > 65535)) {
    push(`${path}.port`, `${ssh.port} is not a TCP port`, 'use a whole number 1-65535, e.g. 22');
  }
  if (ssh.identityFile !== undefined && !KEY_PATH.test(ssh.identityFile)) {
    push(`${path}.identityFile`, `${quote(ssh.identityFile)} is not a plain absolute or ~/ path`, 'name the private key file, e.g. ~/.ssh/id_ed25519 (letters, digits and . _ - + /)');
  }
}

function checkIdentity(c: ResolvedConfig, push: Push): void {
  if (!DNS_LABEL.test(c.name)) {
    push('name', `${quote(c.name)} is not a valid cluster name`, 'use lowercase letters, digits and "-" (at most 63), e.g. "demo"');
  }
  if (!findRelease(c.kubernetesVersion)) {
    push(
      'kubernetesVersion',
      `unsupported Kubernetes version ${quote(c.kubernetesVersion)}`,
      `use one of ${SUPPORTED_RELEASES.map((r) => r.kubernetes).join(', ')}, or leave it out for the default`,
    );
  }
  if (!IMAGE_PREFIX.test(c.images.prefix)) {
    push('images.prefix', `${quote(c.images.prefix)} is not a valid image repository prefix`, 'use lowercase letters, digits, ".", "_", "-" and "/", e.g. "k8s-img" or "registry.local/k8s"');
  }
}

function checkNodes(c: ResolvedConfig, push: Push): void {
  const names = new Map<string, number>();
  const addresses = new Map<string, number>();
  c.nodes.forEach((n, i) => {
    const at = `nodes[${i}]`;
    if (!DNS_LABEL.test(n.name)) {
      push(`${at}.name`, `${quote(n.name)} is not a valid node name`, 'use lowercase letters, digits and "-", e.g. "sw1"');
    }
    const ip = parseIPv4(n.address);
    if (ip === undefined) {
      push(`${at}.address`, `${quote(n.address)} is not an IPv4 address`, 'write four numbers 0-255 separated by dots, e.g. 192.168.232.206');
    } else {
      checkNodeAddress(`${at}.address`, n.address, ip, push);
    }
    const dupName = names.get(n.name);
    if (dupName !== undefined) push(`${at}.name`, `duplicate node name ${quote(n.name)} (also nodes[${dupName}])`, 'give every node its own name');
    else names.set(n.name, i);
    const dupAddr = addresses.get(n.address);
    if (dupAddr !== undefined) push(`${at}.address`, `duplicate address ${n.address} (also nodes[${dupAddr}])`, 'give every node its own address');
    else addresses.set(n.address, i);
    if (new Set(n.roles).size !== n.roles.length) push(`${at}.roles`, 'a role is listed twice', 'list each role once');
  });

  const has = (role: string) => c.nodes.filter((n) => n.roles.includes(role as never));
  if (has('control-plane').length === 0) {
    push('nodes', 'no node has the role control-plane', 'add "control-plane" to the roles of one node');
  }
  const etcd = has('etcd');
  if (etcd.length === 0) {
    push('nodes', 'no node has the role etcd', 'add "etcd" to the roles of one node (the tutorial ran it on sw1)');
  } else if (etcd.length > 1 && etcd.length % 2 === 0) {
    push('nodes', `${etcd.length} etcd members: an even count tolerates no more failures than ${etcd.length - 1}`, 'use an odd number of etcd members (1, 3 or 5)', 'warning');
  }
  if (has('worker').length === 0) {
    push('nodes', 'no node has the role worker: pods (CoreDNS too) have nowhere to run', 'add "worker" to the roles of at least one node', 'warning');
  }
}

/**
 * An address a node can have. Nodes are judged against the /24 around them (local
 * mode puts them on one; on real networks a /24 is the common case): its first
 * and last addresses are the network and broadcast addresses.
 */
function checkNodeAddress(path: string, text: string, ip: number, push: Push): void {
  const special = specialUse(ip);
  const around = enclosing(ip, 24);
  if (special) push(path, `${text} is ${special}: no node can have it`, 'use the address the node has on its network, e.g. 192.168.232.206');
  else if (ip === around.base) push(path, `${text} is the network address of ${around.text}`, 'node addresses end in 1-254 (nodes are taken to be on a /24)');
  else if (ip === broadcast(around)) push(path, `${text} is the broadcast address of ${around.text}`, 'node addresses end in 1-254 (nodes are taken to be on a /24)');
}

function cidr(push: Push, path: string, text: string, example: string): Cidr | undefined {
  const parsed = parseCidr(text);
  if (!parsed) push(path, `${quote(text)} is not an IPv4 CIDR with its host bits clear`, `write a network like ${example}`);
  return parsed;
}

function checkNetworks(c: ResolvedConfig, push: Push): void {
  const net = c.networking;
  const pod = cidr(push, 'networking.podCIDR', net.podCIDR, '172.20.0.0/16');
  const svc = cidr(push, 'networking.serviceCIDR', net.serviceCIDR, '10.68.0.0/16');
  if (pod && pod.prefix > 24) push('networking.podCIDR', `/${pod.prefix} is too small: every node takes at least one /26 block`, 'use a /24 or larger, e.g. 172.20.0.0/16');
  if (svc && svc.prefix < 12) push('networking.serviceCIDR', `/${svc.prefix} is too large: kube-apiserver allows at most /12 for IPv4 services`, 'use /12 to /24, e.g. 10.68.0.0/16');
  if (svc && svc.prefix > 28) push('networking.serviceCIDR', `/${svc.prefix} is too small for the cluster's Services`, 'use /12 to /24, e.g. 10.68.0.0/16');
  if (pod && svc && overlaps(pod, svc)) {
    push('networking.serviceCIDR', `${svc.text} overlaps the pod network ${pod.text}`, 'choose separate ranges, e.g. pods 172.20.0.0/16 and services 10.68.0.0/16');
  }

  c.nodes.forEach((n, i) => {
    const ip = parseIPv4(n.address);
    if (ip === undefined) return;
    for (const [name, range] of [['podCIDR', pod], ['serviceCIDR', svc]] as const) {
      if (range && contains(range, ip)) {
        push(`nodes[${i}].address`, `${n.address} lies inside networking.${name} ${range.text}`, `node, pod and service networks must not overlap: move ${name} or the node`);
      }
    }
    // Nodes usually sit on a /24 or so: warn when that network touches pods or services.
    const around = enclosing(ip, 24);
    if (pod && !contains(pod, ip) && overlaps(around, pod)) {
      push(`nodes[${i}].address`, `the node network around ${n.address} (${around.text}) overlaps networking.podCIDR`, 'choose a pod range away from the nodes', 'warning');
    }
  });

  const dns = parseIPv4(net.clusterDNS);
  if (dns === undefined) {
    push('networking.clusterDNS', `${quote(net.clusterDNS)} is not an IPv4 address`, 'use an address inside serviceCIDR, e.g. 10.68.0.2');
  } else if (svc) {
    if (!contains(svc, dns)) push('networking.clusterDNS', `${net.clusterDNS} is outside serviceCIDR ${svc.text}`, `use an address inside it, e.g. ${nth(svc, 2)}`);
    else if (dns === svc.base) push('networking.clusterDNS', `${net.clusterDNS} is the network address of serviceCIDR`, `use e.g. ${nth(svc, 2)}`);
    else if (dns === broadcast(svc)) push('networking.clusterDNS', `${net.clusterDNS} is the broadcast address of serviceCIDR`, `use e.g. ${nth(svc, 2)}`);
    else if (dns === svc.base + 1) push('networking.clusterDNS', `${net.clusterDNS} is the first service address, taken by the "kubernetes" Service`, `use e.g. ${nth(svc, 2)}`);
  }

  if (!DNS_DOMAIN.test(net.dnsDomain)) push('networking.dnsDomain', `${quote(net.dnsDomain)} is not a DNS domain`, 'use e.g. cluster.local (no trailing dot)');

  const range = /^(\d+)-(\d+)$/.exec(net.nodePortRange);
  const lo = Number(range?.[1]);
  const hi = Number(range?.[2]);
  if (!range) push('networking.nodePortRange', `${quote(net.nodePortRange)} is not a port range`, 'write FIRST-LAST, e.g. 20000-40000');
  else if (lo < 1 || hi > 65535 || lo >= hi) push('networking.nodePortRange', `${net.nodePortRange} is not an increasing range within 1-65535`, 'e.g. 20000-40000');
  else if (lo <= 10259 && hi >= 2379) push('networking.nodePortRange', `${net.nodePortRange} covers ports the components listen on (2379-2381, 5000, 6443-6445, 9099, 10248-10259)`, 'start above 10259, e.g. 30000-32767 (upstream\'s) or 20000-40000 (the tutorial\'s)');

  (net.upstreamDNS ?? []).forEach((s, i) => {
    const ip = parseIPv4(s);
    const special = ip === undefined ? undefined : specialUse(ip);
    if (ip === undefined) push(`networking.upstreamDNS[${i}]`, `${quote(s)} is not an IPv4 address`, 'list resolver addresses, e.g. 192.168.232.1');
    // CoreDNS runs in a pod: a loopback resolver would be the pod itself.
    else if (special) push(`networking.upstreamDNS[${i}]`, `${s} is ${special}: CoreDNS cannot forward to it`, 'list a resolver on the node network, e.g. 192.168.232.1');
  });

  checkCalico(c, push);
}

function checkCalico(c: ResolvedConfig, push: Push): void {
  const { backend, mtu, asNumber } = c.networking.calico;
  const mtuHint = backend === 'bgp' ? 'use the node MTU (no encapsulation), e.g. 1500' : 'use the node MTU minus 50 for VXLAN, e.g. 1450';
  if (!Number.isInteger(mtu)) push('networking.calico.mtu', `${mtu} is not a whole number`, mtuHint);
  else if (mtu < 576 || mtu > 9000) push('networking.calico.mtu', `${mtu} is outside 576-9000`, mtuHint);
  if (!Number.isInteger(asNumber) || asNumber < 1 || asNumber > 4294967295) {
    push('networking.calico.asNumber', `${asNumber} is not an AS number (a whole number 1-4294967295)`, 'use a private AS, e.g. 64512 (Calico\'s default) or 64512-65534');
  } else if (backend !== 'bgp' && asNumber !== DEFAULTS.calicoAS) {
    push('networking.calico.asNumber', `has no effect with backend ${backend}: only BGP uses it`, 'set backend: bgp, or remove asNumber', 'warning');
  }
  if (backend === 'bgp' && c.images.base !== undefined) {
    push('images.base', 'backend bgp runs BIRD 1.6 from the tools base: your image must carry it (with birdc)', 'install Debian bookworm\'s "bird" package in it, or leave images.base out', 'warning');
  }
}

function checkSources(c: ResolvedConfig, push: Push): void {
  const b = c.binaries;
  if (b.source === 'dir' && !b.dir) push('binaries.dir', 'source "dir" needs a directory', 'set binaries.dir to the tutorial\'s BIN_PATH, e.g. /opt/kubernetes/bin');
  if (b.source !== 'dir' && b.dir) push('binaries.dir', `is only used with source "dir" (source is ${quote(b.source)})`, 'remove it or set binaries.source: dir', 'warning');
  if (b.source === 'release' && !b.releaseURL) push('binaries.releaseURL', 'source "release" needs a base URL', 'set binaries.releaseURL, e.g. http://mirror.local/k8s-img');
  if (b.dir !== undefined && !ABSOLUTE_PATH.test(b.dir)) {
    push('binaries.dir', `${quote(b.dir)} is not an absolute path of plain characters`, 'write an absolute path of letters, digits and . _ - + /, e.g. /opt/kubernetes/bin');
  }
  for (const key of ['releaseURL', 'goproxy'] as const) {
    const v = b[key];
    if (v !== undefined && !URL_PATTERN.test(v)) push(`binaries.${key}`, `${quote(v)} is not a plain URL`, 'write an http(s):// or file:// URL of letters, digits and . _ - ~ % / : (no spaces, quotes or shell characters)');
  }
  const base = c.images.base;
  if (base !== undefined && !IMAGE_REFERENCE.test(base)) {
    push('images.base', `${quote(base)} is not an image reference`, 'write [registry[:port]/]name[:tag][@sha256:digest] in lowercase, e.g. debian:bookworm-slim');
  }
}

function checkPodSecurity(c: ResolvedConfig, push: Push): void {
  const ps = c.security.podSecurity;
  ps.exemptNamespaces.forEach((ns, i) => {
    if (!DNS_LABEL.test(ns)) push(`security.podSecurity.exemptNamespaces[${i}]`, `${quote(ns)} is not a namespace name`, 'use lowercase letters, digits and "-", e.g. "kube-system"');
  });
  const changed = ps.exemptNamespaces.length > 0 || (['enforce', 'warn', 'audit'] as const).some((k) => ps[k] !== DEFAULTS.podSecurity[k]);
  if (c.security.mode === 'simple' && changed) {
    push('security.podSecurity', 'is only applied in secure mode: simple mode admits every pod', 'remove it, or set security.mode: secure', 'warning');
  }
}

/** Periodic etcd snapshots: a sane interval (etcdctl needs seconds for a large store) and count. */
export const SNAPSHOT_LIMITS = { minSeconds: 10, maxSeconds: 30 * 86_400, maxKeep: 1000 };

function checkEtcdSnapshots(c: ResolvedConfig, push: Push): void {
  const s = c.etcd.snapshots;
  if (!s) return;
  const seconds = durationSeconds(s.every);
  if (seconds === undefined) {
    push('etcd.snapshots.every', `${quote(s.every)} is not a duration`, 'write whole numbers with d, h, m or s, largest first, e.g. 6h, 30m or 1d12h');
  } else if (seconds < SNAPSHOT_LIMITS.minSeconds || seconds > SNAPSHOT_LIMITS.maxSeconds) {
    push('etcd.snapshots.every', `${quote(s.every)} is outside 10s-30d`, 'e.g. 6h (a snapshot reads the whole store: not more often than needed)');
  }
  if (!Number.isInteger(s.keep) || s.keep < 1 || s.keep > SNAPSHOT_LIMITS.maxKeep) {
    push('etcd.snapshots.keep', `${s.keep} is not a whole number 1-${SNAPSHOT_LIMITS.maxKeep}`, 'how many snapshots each member keeps, e.g. 5');
  }
}
