// Preflight: is each machine fit to run its stack? One read-only script per node
// gathers the facts; the judging is pure. Every failing host is listed with its fix,
// and nothing is changed on any host until all pass.
import { HostError } from '../errors.js';
import { LABEL } from '../plan/names.js';
import type { ClusterPlan, NodePlan } from '../plan/types.js';
import type { NodeHost, NodeProvider } from '../providers/types.js';
import type { Reporter } from './progress.js';

export interface PreflightCheck {
  name: string;
  /** fail stops the deploy; warn is shown only. */
  level: 'ok' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

export interface HostReport {
  node: string;
  where: string;
  checks: PreflightCheck[];
}

export const MIN_DOCKER = 25;
/** `start_interval` in health checks needs Compose 2.20.2 or newer. */
export const MIN_COMPOSE: [number, number, number] = [2, 20, 2];
export const MAX_SKEW_SECONDS = 5;
const SPARE_BYTES = 512 * 1024 * 1024;

/** Read-only: prints one `key=value` or `[section]` line per fact. $1: cluster, $2: bundle folder. */
const FACTS = `
echo "uid=$(id -u)"; echo "user=$(id -un)"; echo "groups=$(id -nG)"
echo "docker=$(docker version --format '{{.Server.Version}}' 2>&1 | tr '\\n' ' ')"
echo "compose=$(docker compose version --short 2>&1 | tr '\\n' ' ')"
root=$(docker info --format '{{.DockerRootDir}}' 2>/dev/null); echo "dockerroot=$root"
echo "diskfree=$(df -Pk "\${root:-/var/lib}" 2>/dev/null | awk 'NR==2 {print $4}')"
d=$2; while [ ! -d "$d" ]; do d=$(dirname "$d"); done
echo "bundlefree=$(df -Pk "$d" | awk 'NR==2 {print $4}')"
echo "capbnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)"
echo "swap=$(awk 'NR>1' /proc/swaps | wc -l)"
echo "vxlan=$( { [ -d /sys/module/vxlan ] || grep -qs '/vxlan.ko' /lib/modules/$(uname -r)/modules.builtin /lib/modules/$(uname -r)/modules.dep; } && echo yes || echo no)"
echo "brnf=$( { [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || grep -qs '/br_netfilter.ko' /lib/modules/$(uname -r)/modules.builtin /lib/modules/$(uname -r)/modules.dep; } && echo yes || echo no)"
echo "ours=$(docker ps --filter "label=${LABEL.cluster}=$1" --format '{{.Label "${LABEL.component}"}}' 2>/dev/null | tr '\\n' ' ')"
echo "time=$(date +%s.%N)"
for f in tcp tcp6 udp udp6; do echo "[$f]"; cat /proc/net/$f 2>/dev/null; done
`;

export interface Facts {
  values: Record<string, string>;
  sockets: { proto: 'tcp' | 'udp'; address: string; port: number }[];
  /** Remote clock minus ours, in seconds (half the round trip allowed for). */
  skewSeconds: number;
}

/** Listening TCP sockets and bound UDP sockets from /proc/net/{tcp,udp}{,6}. */
export function parseFacts(text: string, skewSeconds: number): Facts {
  const values: Record<string, string> = {};
  const sockets: Facts['sockets'] = [];
  let section = '';
  for (const line of text.split('\n')) {
    const sec = /^\[(tcp6?|udp6?)\]$/.exec(line.trim());
    if (sec) {
      section = sec[1]!;
      continue;
    }
    if (!section) {
      const kv = /^([a-z]+)=(.*)$/.exec(line);
      if (kv) values[kv[1]!] = kv[2]!.trim();
      continue;
    }
    const f = line.trim().split(/\s+/);
    const local = /^([0-9A-F]+):([0-9A-F]{4})$/.exec(f[1] ?? '');
    if (!local) continue;
    const proto = section.startsWith('tcp') ? 'tcp' : 'udp';
    if ((proto === 'tcp' && f[3] !== '0A') || (proto === 'udp' && f[3] !== '07')) continue; // LISTEN / unconnected
    sockets.push({ proto, address: procAddress(local[1]!), port: parseInt(local[2]!, 16) });
  }
  return { values, sockets, skewSeconds };
}

/** /proc/net addresses: IPv4 as one little-endian word, IPv6 as four; "::" and 0.0.0.0 mean any. */
function procAddress(hex: string): string {
  if (hex.length === 8) return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');
  if (/^0+$/.test(hex)) return '::';
  // IPv4-mapped (::ffff:a.b.c.d) as the IPv4 address; other IPv6 addresses stay opaque.
  if (hex.slice(0, 24) === '0000000000000000FFFF0000') return procAddress(hex.slice(24));
  return hex;
}

const versionParts = (v: string) => (/(\d+)\.(\d+)\.(\d+)/.exec(v) ?? []).slice(1).map(Number);
const atLeast = (v: number[], min: number[]) => v.length === 3 && (v[0]! - min[0]! || v[1]! - min[1]! || v[2]! - min[2]!) >= 0;

/** The checks of one host, from its facts. Pure. */
export function judgeHost(plan: ClusterPlan, node: NodePlan, facts: Facts, needBytes: { images: number; bundle: number }): PreflightCheck[] {
  const v = facts.values;
  const checks: PreflightCheck[] = [];
  const add = (name: string, level: PreflightCheck['level'], detail: string, fix?: string) => checks.push({ name, level, detail, ...(fix && level !== 'ok' ? { fix } : {}) });

  const groups = (v.groups ?? '').split(/\s+/);
  const root = v.uid === '0';
  add('privileges', root || groups.includes('docker') ? 'ok' : 'fail', root ? 'root' : `${v.user} (groups: ${v.groups})`, `log in as root, or add ${v.user} to the docker group: usermod -aG docker ${v.user}`);

  const docker = versionParts(v.docker ?? '');
  add(
    'Docker Engine',
    docker.length === 3 && docker[0]! >= MIN_DOCKER ? 'ok' : 'fail',
    docker.length === 3 ? v.docker! : `not usable: ${v.docker || 'no answer'}`,
    `install Docker Engine ${MIN_DOCKER} or newer and start it (Debian trixie: apt-get install docker.io docker-cli)`,
  );
  const compose = versionParts(v.compose ?? '');
  add('Docker Compose v2', atLeast(compose, MIN_COMPOSE) ? 'ok' : 'fail', compose.length === 3 ? v.compose! : `not usable: ${v.compose || 'no answer'}`, `install the Compose v2 plugin, ${MIN_COMPOSE.join('.')} or newer (Debian trixie: apt-get install docker-compose)`);

  // Without CAP_SYS_RESOURCE no process may lower its oom_score_adj: containerd is then
  // told to clamp the pods' values (k8s-img-host-agent does it), so no runc wrapper is needed.
  const capResource = v.capbnd ? (BigInt(`0x${v.capbnd}`) >> 24n) & 1n : 1n;
  add('CAP_SYS_RESOURCE', 'ok', capResource ? 'in the bounding set' : 'missing: containerd clamps pods\' oom_score_adj (no runc wrapper needed)');

  const mine = new Set((v.ours ?? '').split(/\s+/).filter(Boolean));
  const busy: string[] = [];
  for (const s of node.services) {
    if (mine.has(s.name)) continue; // our own service holds it
    for (const p of s.ports) {
      const taken = facts.sockets.find((k) => k.proto === p.protocol && k.port === p.port && (p.bind === '0.0.0.0' || k.address === '0.0.0.0' || k.address === '::' || k.address === p.bind));
      if (taken) busy.push(`${p.port}/${p.protocol} (${s.name}, in use on ${taken.address})`);
    }
  }
  add('ports free', busy.length === 0 ? 'ok' : 'fail', busy.length === 0 ? `${node.services.reduce((n, s) => n + (mine.has(s.name) ? 0 : s.ports.length), 0)} ports` : busy.join(', '), `stop what listens there (ss -ltnup shows it) or move it; k8s-img's services need these ports`);

  add('swap', v.swap === '0' ? 'ok' : 'warn', v.swap === '0' ? 'off' : `${v.swap} swap area(s) on`, 'the kubelet runs anyway (failSwapOn: false) but pods do not use swap; turn it off for predictable memory limits: swapoff -a');
  const skew = Math.abs(facts.skewSeconds);
  add('clock', skew <= MAX_SKEW_SECONDS ? 'ok' : 'fail', `${facts.skewSeconds >= 0 ? '+' : '-'}${skew.toFixed(1)} s from this machine`, 'synchronise the clocks (timedatectl set-ntp true, or chrony); certificates and etcd leases need them within a few seconds');

  const free = Number(v.diskfree ?? 0) * 1024;
  const need = needBytes.images + SPARE_BYTES;
  add('disk for images', free >= need ? 'ok' : 'fail', `${gb(free)} free in ${v.dockerroot || '?'}, ${gb(need)} needed`, `free space in ${v.dockerroot || 'Docker\'s data root'} (docker system prune, or a larger disk)`);
  const bundleFree = Number(v.bundlefree ?? 0) * 1024;
  add('disk for the bundle', bundleFree >= needBytes.bundle + SPARE_BYTES ? 'ok' : 'fail', `${gb(bundleFree)} free, ${gb(needBytes.bundle + SPARE_BYTES)} needed`, 'free space where the bundle goes (/opt/k8s-img for root)');

  if (plan.networking.calicoBackend === 'vxlan') add('kernel: VXLAN', v.vxlan === 'yes' ? 'ok' : 'fail', v.vxlan === 'yes' ? 'available' : 'no vxlan module', 'a kernel built with CONFIG_VXLAN (every distribution kernel has it as a module)');
  add('kernel: br_netfilter', v.brnf === 'yes' ? 'ok' : 'warn', v.brnf === 'yes' ? 'available' : 'not available', 'modprobe br_netfilter (Calico does not need it; bridged pod traffic elsewhere would bypass iptables)');
  return checks;
}

const gb = (b: number) => `${(b / 1e9).toFixed(1)} GB`;

async function gather(host: NodeHost, cluster: string): Promise<Facts> {
  const t0 = Date.now();
  const r = await host.exec(['sh', '-c', FACTS, 'sh', cluster, host.bundleDir]);
  const t1 = Date.now();
  if (r.code !== 0 && !r.stdout.includes('time=')) throw new HostError(`preflight on ${host.where} could not run: ${r.stderr.trim()}`, 'the login shell must be a POSIX shell with the usual tools (awk, df, id)');
  const remote = Number(/^time=(\S+)$/m.exec(r.stdout)?.[1] ?? NaN);
  return parseFacts(r.stdout, (remote * 1000 - (t0 + t1) / 2) / 1000);
}

/**
 * Runs the checks on every node at once. `imageBytes(node)` is what the node's images
 * take unpacked (0 when it already has them); `bundleBytes(node)` its bundle.
 */
export async function preflight(
  provider: NodeProvider,
  plan: ClusterPlan,
  nodes: NodePlan[],
  need: (node: NodePlan, host: NodeHost) => Promise<{ images: number; bundle: number }>,
  reporter: Reporter,
): Promise<HostReport[]> {
  return reporter.step(`Preflight on ${nodes.length} nodes`, async (update) => {
    let done = 0;
    return Promise.all(
      nodes.map(async (node): Promise<HostReport> => {
        let host: NodeHost;
        try {
          host = await provider.connect(node.name);
        } catch (e) {
          const err = e as HostError;
          update(`${++done}/${nodes.length}`);
          return { node: node.name, where: node.address, checks: [{ name: 'reachable', level: 'fail', detail: err.message, ...(err.hint ? { fix: err.hint } : {}) }] };
        }
        const facts = await gather(host, plan.cluster);
        const checks = [{ name: 'reachable', level: 'ok' as const, detail: `${host.where}, host key verified` }, ...judgeHost(plan, node, facts, await need(node, host))];
        update(`${++done}/${nodes.length}`);
        return { node: node.name, where: host.where, checks };
      }),
    );
  });
}

export function formatPreflight(reports: HostReport[]): string {
  const out: string[] = [];
  for (const r of reports) {
    out.push(`node ${r.node} (${r.where})`);
    for (const c of r.checks) {
      out.push(`  ${c.level === 'ok' ? '✓' : c.level === 'warn' ? '!' : '✗'} ${c.name.padEnd(22)} ${c.detail}`);
      if (c.fix) out.push(`      fix: ${c.fix}`);
    }
  }
  const failing = reports.filter((r) => r.checks.some((c) => c.level === 'fail'));
  out.push('', failing.length === 0 ? `preflight passed on ${reports.length} nodes` : `preflight failed on ${failing.map((r) => r.node).join(', ')}`);
  return `${out.join('\n')}\n`;
}

/** The error that stops a deploy: every failing host, each with its fixes (unless the table was shown). */
export function preflightError(reports: HostReport[], listed = false): HostError | undefined {
  const failing = reports.filter((r) => r.checks.some((c) => c.level === 'fail'));
  if (failing.length === 0) return undefined;
  const lines = listed ? [] : failing.flatMap((r) => r.checks.filter((c) => c.level === 'fail').map((c) => `\n  ${r.node}: ${c.name}: ${c.detail}${c.fix ? `\n    fix: ${c.fix}` : ''}`));
  return new HostError(`preflight failed on ${failing.map((r) => r.node).join(', ')}; nothing was changed on any node${lines.join('')}`, `fix the hosts ${listed ? 'as shown' : 'above'} and run again (\`k8s-img preflight -c FILE\` checks without deploying)`);
}
