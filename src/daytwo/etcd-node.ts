// One-shots of the etcd image on an etcd member: a work folder of their own (0700)
// holding the client certificate and the snapshot, removed afterwards.
import { PassThrough } from 'node:stream';
import tar from 'tar-stream';
import { ClusterError } from '../errors.js';
import { CLIENT_FILES, ETCD_WORK, etcdctlArgs, oneShot } from '../plan/etcd-ops.js';
import type { ClusterPlan } from '../plan/types.js';
import type { NodeAccess } from '../runtime/node-access.js';
import type { StateDir } from '../runtime/state.js';

export async function must(node: NodeAccess, argv: string[], what: string, dir?: string): Promise<string> {
  const r = await node.exec(argv, dir);
  if (r.code !== 0) {
    const tail = `${r.stderr}${r.stdout}`.trim().split('\n').slice(-6).join('\n');
    throw new ClusterError(`${what} on ${node.node} (${node.where}) failed (exit ${r.code}):\n${tail}`, `rerun by hand on ${node.node}: ${argv.join(' ')}`);
  }
  return r.stdout;
}

/** A tar stream of in-memory files (mode 0600). */
export function tarOf(files: Record<string, string | Buffer>): NodeJS.ReadableStream {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mode: 0o600, mtime: new Date(0) }, content);
  pack.finalize();
  return pack.pipe(new PassThrough());
}

/** Creates `<ETCD_WORK>/<id>` on the node with the etcd client certificate in it (secure mode). */
export async function prepareWork(node: NodeAccess, plan: ClusterPlan, state: StateDir, id: string): Promise<string> {
  const dir = `${ETCD_WORK}/${id}`;
  await must(node, ['mkdir', '-p', '-m', '0700', ETCD_WORK], 'creating the etcd work folder');
  await must(node, ['mkdir', '-m', '0700', dir], 'creating the etcd work folder');
  if (plan.mode === 'secure') {
    const files: Record<string, string> = {};
    for (const f of Object.values(CLIENT_FILES)) {
      const v = state.read(f);
      if (v === undefined) throw new ClusterError(`${f} is missing from ${state.dir}`, 'the state folder is not the one this cluster was started with');
      files[f] = v;
    }
    await node.putTar(tarOf(files), dir);
  }
  return dir;
}

export async function removeWork(node: NodeAccess, dir: string): Promise<void> {
  await node.exec(['rm', '-rf', dir]).catch(() => undefined);
}

export async function etcdctl(node: NodeAccess, plan: ClusterPlan, dir: string, member: { address: string }, args: string[], what: string): Promise<string> {
  return must(node, oneShot(plan, dir, 'etcdctl', etcdctlArgs(plan, member, args)), what);
}

export interface EndpointStatus {
  clusterId: string;
  revision: number;
  version: string;
}

/** `etcdctl endpoint status` of the member (cluster_id is a uint64: read as text, not a JS number). */
export async function endpointStatus(node: NodeAccess, plan: ClusterPlan, dir: string, member: { address: string }): Promise<EndpointStatus> {
  const out = await etcdctl(node, plan, dir, member, ['endpoint', 'status', '-w', 'json'], 'etcdctl endpoint status');
  const clusterId = /"cluster_id":(\d+)/.exec(out)?.[1];
  const revision = /"revision":(\d+)/.exec(out)?.[1];
  const version = /"version":"([^"]+)"/.exec(out)?.[1];
  if (!clusterId || !revision || !version) throw new ClusterError(`etcdctl endpoint status on ${node.node} printed no status: ${out.slice(0, 300)}`, 'is etcd healthy there? (k8s-img status)');
  return { clusterId: BigInt(clusterId).toString(16), revision: Number(revision), version };
}

/** `etcdutl snapshot status` of the work folder's snapshot.db: it reads the whole file. */
export async function snapshotStatus(node: NodeAccess, plan: ClusterPlan, dir: string): Promise<{ hash: number; revision: number; totalKey: number; totalSize: number }> {
  const out = await must(node, oneShot(plan, dir, 'etcdutl', ['snapshot', 'status', '/work/snapshot.db', '-w', 'json']), 'etcdutl snapshot status');
  try {
    return JSON.parse(out.trim().split('\n').at(-1)!) as { hash: number; revision: number; totalKey: number; totalSize: number };
  } catch {
    throw new ClusterError(`etcdutl snapshot status on ${node.node} printed: ${out.slice(0, 300)}`, 'the snapshot file is damaged');
  }
}

/** Reads one file out of a tar stream into `write`'s sink. */
export function readSingleFile(stream: NodeJS.ReadableStream, name: string, sink: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const extract = tar.extract();
    let found = false;
    extract.on('entry', (header, entry, next) => {
      if (header.name.replace(/^\.?\//, '') !== name || header.type !== 'file') {
        entry.resume();
        entry.on('end', next);
        return;
      }
      found = true;
      entry.pipe(sink as NodeJS.WritableStream);
      sink.on('finish', next);
      sink.on('error', reject);
    });
    extract.on('finish', () => (found ? resolve() : reject(new ClusterError(`${name} was not in the archive from the node`, 'the snapshot was not written: see the etcdctl output above'))));
    extract.on('error', reject);
    stream.on('error', reject); // the node's side failed (tar over SSH exits non-zero)
    stream.pipe(extract);
  });
}
