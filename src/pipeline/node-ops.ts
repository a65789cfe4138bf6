// What happens on one node, whatever kind it is (a local node container or a machine
// over SSH): the bundle copied over (changed files only), the images loaded when the
// node lacks them, `docker compose up -d`, the wait for the services' health, and the
// teardown of the stack. Every step is a command a user could type on the node.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterError, HostError } from '../errors.js';
import { LABEL, names } from '../plan/names.js';
import { CONTAINERD_SOCKET, agentHome } from '../plan/components.js';
import type { NodePlan, ServicePlan } from '../plan/types.js';
import { syncBundle, type SyncResult } from '../runtime/bundle-sync.js';
import { shellQuote } from '../runtime/shell.js';
import type { NodeHost } from '../providers/types.js';

export interface ServiceState {
  Id: string;
  Name: string;
  Config?: { Image?: string };
  State: { Status: string; Running: boolean; ExitCode: number; StartedAt: string; Health?: { Status: string; Log?: { ExitCode: number; Output: string }[] } };
}

export async function syncNodeBundle(host: NodeHost, localDir: string): Promise<SyncResult> {
  return syncBundle(host, localDir, host.bundleDir);
}

/** The node's images.sha256 (written after a successful load; never part of the bundle sync). */
const LOADED = 'images.sha256';

/**
 * `docker load` of the node's archive, unless the node already holds exactly those
 * images (by ID) — then the archive does not travel at all. The archive's sha256 is
 * written on the node after a load, so `sha256sum -c` works there as by hand.
 */
export async function loadNodeImages(host: NodeHost, localDir: string): Promise<'loaded' | 'present'> {
  const wanted = readFileSync(join(localDir, 'images.txt'), 'utf8').trim().split('\n').map((l) => l.split(' ') as [string, string]);
  const sums = readFileSync(join(localDir, LOADED), 'utf8');
  const check = await host.exec(['docker', 'image', 'inspect', '--format', '{{.Id}}', ...wanted.map(([ref]) => ref)]);
  const have = check.stdout.trim().split('\n');
  const present = check.code === 0 && wanted.every(([, id], i) => have[i] === id);
  const marker = await host.exec(['cat', LOADED], host.bundleDir);
  if (present) {
    if (marker.stdout !== sums) await writeRemote(host, join(host.bundleDir, LOADED), sums);
    return 'present';
  }
  const r = await host.exec(['docker', 'load', '-q'], undefined, join(localDir, 'images.tar'));
  if (r.code !== 0) throw new HostError(`docker load on ${host.where} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`, `is the disk full? (df -h /var/lib/docker on ${host.node})`);
  await writeRemote(host, join(host.bundleDir, LOADED), sums);
  return 'loaded';
}

async function writeRemote(host: NodeHost, path: string, content: string): Promise<void> {
  const r = await host.exec(['sh', '-c', 'printf "%s" "$1" > "$2"', 'sh', content, path]);
  if (r.code !== 0) throw new HostError(`cannot write ${path} on ${host.where}: ${r.stderr.trim()}`, 'is the disk full?');
}

/** What `docker compose up -d` did, told from the containers before and after. */
export interface ComposeOutcome {
  /** Created or recreated (new container: its definition or files changed). */
  created: string[];
  /** The same container started again (it had stopped, or it is a one-shot that ran again). */
  started: string[];
}

export function composeOutcome(before: Map<string, ServiceState>, after: Map<string, ServiceState>): ComposeOutcome {
  const created: string[] = [];
  const started: string[] = [];
  for (const [name, c] of after) {
    const old = before.get(name);
    if (!old || old.Id !== c.Id) created.push(name);
    else if (old.State.StartedAt !== c.State.StartedAt) started.push(name);
  }
  return { created: created.sort(), started: started.sort() };
}

/** `docker compose up -d` in the node's bundle: services whose files changed are recreated. */
export async function composeUp(host: NodeHost, services: ServicePlan[]): Promise<ComposeOutcome> {
  const before = await inspectServices(host, services);
  const r = await host.exec(['docker', 'compose', 'up', '-d', '--remove-orphans'], host.bundleDir);
  if (r.code !== 0) {
    throw new ClusterError(
      `docker compose up on ${host.node} (${host.where}) failed:\n${(r.stderr || r.stdout).trim().split('\n').slice(-8).join('\n')}`,
      `see \`docker ps -a\` and the logs of the failed service on ${host.node}`,
    );
  }
  return composeOutcome(before, await inspectServices(host, services));
}

/** Whether every service of the node is as it should be (running and healthy; one-shots done). */
export async function stackSettled(host: NodeHost, services: ServicePlan[]): Promise<boolean> {
  const found = await inspectServices(host, services);
  return services.every((s) => judgeService(s, found.get(names.service(s.name))).ok);
}

/** `docker inspect` of the node's services, by container name (missing ones are absent). */
export async function inspectServices(host: NodeHost, services: ServicePlan[]): Promise<Map<string, ServiceState>> {
  const r = await host.exec(['docker', 'inspect', ...services.map((s) => names.service(s.name))]);
  const found = new Map<string, ServiceState>();
  try {
    for (const c of JSON.parse(r.stdout || '[]') as ServiceState[]) found.set(c.Name.replace(/^\//, ''), c);
  } catch {
    /* every service is then reported missing */
  }
  return found;
}

/** A service's state in one line, and whether it is where it should be. */
export function judgeService(s: ServicePlan, c: ServiceState | undefined): { ok: boolean; detail: string } {
  if (!c) return { ok: false, detail: 'not created (docker compose up -d has not run?)' };
  if (s.oneshot) {
    return { ok: !c.State.Running && c.State.ExitCode === 0 && c.State.Status === 'exited', detail: c.State.Running ? 'running' : `exited ${c.State.ExitCode}` };
  }
  const health = c.State.Health;
  const last = health?.Log?.at(-1)?.Output.trim().split('\n').at(-1) ?? '';
  return { ok: c.State.Running && (!health || health.Status === 'healthy'), detail: `${c.State.Status}${health ? `, ${health.Status}` : ''}${last ? ` (${last})` : ''}` };
}

export async function serviceLogs(host: NodeHost, service: string, lines = 8): Promise<string[]> {
  const r = await host.exec(['docker', 'logs', '--tail', String(lines), names.service(service)]).catch(() => undefined);
  return `${r?.stdout ?? ''}${r?.stderr ?? ''}`.trim().split('\n').filter(Boolean);
}

/** Waits until every service of the node is healthy (one-shots: exited 0). */
export async function waitServices(host: NodeHost, node: NodePlan, timeoutMs: number, update: (detail: string) => void = () => {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await inspectServices(host, node.services);
    const waiting = node.services.filter((s) => !judgeService(s, found.get(names.service(s.name))).ok);
    if (waiting.length === 0) return;
    update(`waiting for ${waiting.map((s) => s.name).join(', ')}`);
    if (Date.now() > deadline) {
      const s = waiting[0]!;
      const logs = await serviceLogs(host, s.name);
      throw new ClusterError(
        `node ${node.name}: ${waiting.map((w) => `${w.name} (${judgeService(w, found.get(names.service(w.name))).detail})`).join(', ')} not healthy after ${Math.round(timeoutMs / 1000)} s${logs.length ? `\nlast lines of ${s.name}:\n${logs.map((l) => `  | ${l}`).join('\n')}` : ''}`,
        `see \`docker logs ${names.service(s.name)}\` on ${node.name}; fix it and run again: nodes already done are left as they are`,
      );
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/**
 * Removes the cluster's stack from a node: the pods first (their shims left
 * containerd's cgroup on purpose, so they would outlive it), then the Compose
 * services, then what the services left on the machine; with `wipe`, etcd's and
 * Calico's data too. The file work runs as root in the node's namespaces through a
 * short-lived container of the host-prep image, as RKE's cleanup did, so a
 * docker-group login can do it.
 */
export async function teardownStack(host: NodeHost, cluster: string, cleanupImage: string, wipe: boolean): Promise<void> {
  const ctr = `${agentHome('containerd')}/bin/ctr`;
  const pods = [
    'c=k8s-img-containerd',
    `ctr="${ctr} --address ${CONTAINERD_SOCKET} -n k8s.io"`,
    'if docker exec $c $ctr version >/dev/null 2>&1; then',
    '  for t in $(docker exec $c $ctr tasks ls -q); do docker exec $c $ctr tasks rm -f $t >/dev/null 2>&1; done',
    '  for x in $(docker exec $c $ctr containers ls -q); do docker exec $c $ctr containers rm $x >/dev/null 2>&1; done',
    'fi',
    // --project-name finds the stack even if its compose.yaml is gone.
    `docker compose --project-name ${names.project(cluster)} down --remove-orphans --timeout 10`,
  ].join('\n');
  const down = await host.exec(['sh', '-c', pods]);
  if (down.code !== 0) throw new HostError(`removing the stack on ${host.where} failed: ${(down.stderr || down.stdout).trim().split('\n').slice(-3).join(' ')}`, 'is the node\'s Docker engine running?');
  const paths = [host.bundleDir, '/var/lib/k8s-img', '/var/lib/kubelet', '/run/k8s-img', '/etc/cni/net.d/10-calico.conflist', '/etc/cni/net.d/calico-kubeconfig', '/etc/cni/net.d/pki', ...(wipe ? ['/var/lib/etcd', '/var/lib/calico'] : [])];
  const files = [
    // Mounts the pods left (volumes, sandboxes' shm, network namespaces) go first, deepest first.
    'for m in $(awk \'$2 ~ "^(/var/lib/kubelet/|/run/k8s-img/|/run/netns/cni-)" {print $2}\' /proc/self/mounts | sort -r); do umount -l "$m"; done',
    'rm -f /run/netns/cni-*',
    `rm -rf ${paths.map(shellQuote).join(' ')}`,
  ].join('\n');
  const r = await host.exec([
    'docker', 'run', '--rm', '--privileged', '--pid=host', '--network=none', '--pull=never',
    '--label', `${LABEL.managed}=true`, '--label', `${LABEL.cluster}=${cluster}`, '--label', `${LABEL.component}=cleanup`,
    '--entrypoint', 'nsenter', cleanupImage, '-t', '1', '-m', '--', 'sh', '-c', files,
  ]);
  if (r.code !== 0) throw new HostError(`cleaning up after the stack on ${host.where} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`, `remove ${paths.join(' ')} there by hand`);
}
