// The etcd snapshot suite (issue 10), shared by the CI test (one node) and the long one
// (3 etcd members): a namespace with ConfigMaps, Secrets and a Deployment is snapshotted,
// deleted and restored: every object is back, Secrets are still encrypted at rest (read
// raw from etcd), the pods run. Corrupted and foreign snapshots are refused, nothing changed.
// With periodic snapshots (etcd.snapshots), they appear on the member and are pruned, and
// the restore takes one of them (fetched as <node>:<name>) instead of the saved one.
// An edited kubernetesVersion that would be a downgrade is refused by `up`.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { prepareWork, etcdctl, removeWork } from '../../src/daytwo/etcd-node.js';
import { localConnector } from '../../src/daytwo/nodes.js';
import { adminKubeconfigPath, names, openLocalCluster } from '../../src/pipeline/local.js';
import { ETCD_SNAPSHOTS } from '../../src/plan/components.js';
import { ETCD_WORK, periodicName } from '../../src/plan/etcd-ops.js';
import { planCluster } from '../../src/plan/plan.js';
import { DockerEngine } from '../../src/runtime/docker.js';
import { KubeClient, credentialsFromKubeconfig, waitFor } from '../../src/runtime/kube.js';
import { SnapshotStore } from '../../src/runtime/snapshots.js';
import { runInProcess } from './cli.js';
import { ownCluster, writeTestCluster } from '../integration/harness.js';

/**
 * The snapshot → delete → restore suite on a cluster of its own: `nodes` (cluster.yaml
 * lines); `member` is the etcd member whose data is read raw and checked.
 */
export function snapshotSuite(NAME: string, nodes: string, member: string, opts: { periodic?: { every: string; keep: number } } = {}): void {
  const periodic = opts.periodic;
  const configPath = writeTestCluster(NAME, nodes, `security: { mode: secure }\n${periodic ? `etcd: { snapshots: { every: ${periodic.every}, keep: ${periodic.keep} } }\n` : ''}`);
  const docker = new DockerEngine();
  const cli = (...args: string[]) => runInProcess([...args, '-c', configPath]);
  const inNode = (cmd: string[]) => docker.exec(names.node(NAME, member), cmd);
  const NS = 'keep';
  const CONFIGMAPS = 20;
  const SECRETS = 5;
  let kube: KubeClient;
  /** When the namespace was complete: a periodic snapshot taken after it holds everything. */
  let filled = 0;
  /** The periodic snapshot the restore takes (`<node>:<name>`), when there are any. */
  let periodicRef: string | undefined;
  ownCluster(docker, NAME, () => kube, `${NAME} snapshot suite`);

  const restricted = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } };

  /** The raw value etcd holds for a Secret (what a thief with the data folder would read). */
  async function rawSecret(name: string): Promise<string> {
    const cluster = openLocalCluster(configPath);
    const plan = planCluster(cluster.config);
    const node = await localConnector(docker, plan)(member);
    const dir = await prepareWork(node, plan, cluster.state, `test-${Date.now()}`);
    try {
      return await etcdctl(node, plan, dir, plan.etcd.members.find((m) => m.name === member)!, ['get', `/registry/secrets/${NS}/${name}`, '--print-value-only'], 'etcdctl get');
    } finally {
      await removeWork(node, dir);
    }
  }

  async function deploymentReady(): Promise<number> {
    return waitFor('deployment keep/web available with 2 running pods', 240_000, async () => {
      const d = await kube.getOrUndefined<{ status: { availableReplicas?: number } }>(`/apis/apps/v1/namespaces/${NS}/deployments/web`);
      const pods = await kube.get<{ items: { status: { phase: string } }[] }>(`/api/v1/namespaces/${NS}/pods?labelSelector=app%3Dweb`);
      const running = pods.items.filter((p) => p.status.phase === 'Running').length;
      return d?.status.availableReplicas === 2 && running === 2 ? running : undefined;
    }, 1000);
  }

  /** What stays the same when a restore is refused: the apiserver and etcd containers (not restarted) and the data folder. */
  async function untouched(): Promise<string> {
    const r = await inNode(['sh', '-c', `docker inspect -f '{{.Name}} {{.State.StartedAt}}' k8s-img-etcd k8s-img-kube-apiserver; ls -d /var/lib/etcd* ${ETCD_WORK}/* 2>/dev/null; ls -i /var/lib/etcd/member/snap/db`]);
    return r.stdout;
  }

  describe('etcd snapshot and restore', () => {
    it(`k8s-img up: ${NAME}`, async () => {
      const r = await cli('up');
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      kube = new KubeClient(credentialsFromKubeconfig(adminKubeconfigPath(openLocalCluster(configPath).state)));
    });

    it('kubernetesVersion edited to an older minor: up refuses it (exit 2, the field named), nothing changed', async () => {
      const text = readFileSync(configPath, 'utf8');
      const before = await untouched();
      writeFileSync(configPath, text.replace(/^name: .*$/m, '$&\nkubernetesVersion: "1.36.3"'));
      try {
        const r = await cli('up');
        assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
        assert.match(r.stderr, /kubernetesVersion: the cluster runs 1\.37\.2: downgrade from 1\.37\.2 to 1\.36\.3 refused: upstream supports upgrades only .*\(hint: set kubernetesVersion back to "1\.37\.2"/);
        assert.match(r.stderr, /nothing was written/);
      } finally {
        writeFileSync(configPath, text);
      }
      assert.equal(await untouched(), before);
    });

    it('a namespace with ConfigMaps, Secrets and a Deployment', async () => {
      await kube.create('/api/v1/namespaces', { metadata: { name: NS } });
      for (let i = 0; i < CONFIGMAPS; i++) await kube.create(`/api/v1/namespaces/${NS}/configmaps`, { metadata: { name: `cm-${i}` }, data: { i: String(i) } });
      for (let i = 0; i < SECRETS; i++) await kube.create(`/api/v1/namespaces/${NS}/secrets`, { metadata: { name: `s-${i}` }, stringData: { password: `hunter${i}` } });
      await kube.create(`/apis/apps/v1/namespaces/${NS}/deployments`, {
        metadata: { name: 'web' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'w', image: 'k8s-img/workload:v1.37.2', args: ['serve'], securityContext: restricted }] },
          },
        },
      });
      await deploymentReady();
      assert.match(await rawSecret('s-0'), /^k8s:enc:secretbox:v1:/);
      filled = Date.now();
    });

    it('etcd snapshot save: the file, its sha256, cluster.yaml and keys, all 0600; list shows it', async () => {
      const r = await cli('etcd', 'snapshot', 'save', '--name', 'before');
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      const store = new SnapshotStore(openLocalCluster(configPath).state);
      const m = store.manifest('before');
      assert.equal(m.cluster, NAME);
      assert.ok(m.member && m.keys.length > 0);
      assert.ok(m.size > 100_000 && m.etcd.totalKey > CONFIGMAPS + SECRETS, JSON.stringify(m));
      assert.ok(m.keys.includes('encryption.key') && m.keys.includes('ca.key'));
      for (const f of ['snapshot.db', 'snapshot.db.sha256', 'manifest.json', 'cluster.yaml', 'keys/encryption.key']) {
        assert.equal(statSync(join(store.path('before'), f)).mode & 0o777, 0o600, f);
      }
      assert.equal(statSync(store.path('before')).mode & 0o777, 0o700);
      assert.equal(readFileSync(join(store.path('before'), 'cluster.yaml'), 'utf8'), readFileSync(configPath, 'utf8'));
      const list = await cli('etcd', 'snapshot', 'list');
      assert.match(list.stdout, /^before\s+\S+\s+1\.37\.2/m);
      // Nothing left on the node: the work folder (with the client key) is gone.
      assert.equal((await inNode(['sh', '-c', `ls -A ${ETCD_WORK}`])).stdout.trim(), '');
    });

    if (periodic) {
      it(`periodic snapshots every ${periodic.every}: files with their sha256 on the member, only ${periodic.keep} kept; list shows them; fetch copies one`, async () => {
        // Each snapshot on the member, checked against its sha256 (one pruned meanwhile is skipped).
        const onNode = async () => {
          const r = await inNode(['sh', '-c', `cd ${ETCD_SNAPSHOTS} && stat -c %a . && for f in [0-9]*.db; do [ -f "$f" ] && { sha256sum -c --quiet "$f.sha256" >&2 && echo "$f" || echo "BAD $f"; }; done; true`]);
          assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
          const [mode, ...files] = r.stdout.trim().split('\n').filter(Boolean);
          assert.equal(mode, '700', 'the folder is 0700');
          assert.ok(files.every((f) => !f.startsWith('BAD')), r.stdout + r.stderr);
          return files.sort();
        };
        const first = await waitFor('a periodic snapshot on the member', 120_000, async () => {
          const now = await onNode();
          return now.length > 0 ? now : undefined;
        }, 2000);
        // The oldest goes once `keep` newer ones exist; the newest must be from after the namespace was filled.
        const files = await waitFor('the first snapshot pruned, a newer one saved', 180_000, async () => {
          const now = await onNode();
          const fresh = now.filter((f) => Date.parse(periodicName(f.replace(/\.db$/, ''))!.createdAt) > filled + 1000);
          return !now.includes(first[0]!) && fresh.length > 0 ? now : undefined;
        }, 2000);
        assert.ok(files.length <= periodic.keep, files.join(' '));
        assert.ok(files.every((f) => /^\d{8}t\d{6}z-v1\.37\.2\.db$/.test(f)), files.join(' '));
        const stem = files.at(-1)!.replace(/\.db$/, '');
        periodicRef = `${member}:${stem}`;
        const list = await cli('etcd', 'snapshot', 'list');
        assert.equal(list.code, 0, list.stderr);
        assert.match(list.stdout, new RegExp(`^periodic, on the members \\(etcd.snapshots: every ${periodic.every}, keep ${periodic.keep}\\):$`, 'm'));
        assert.match(list.stdout, new RegExp(`^${periodicRef.replace(/\./g, '\\.')}\\s+\\S+\\s+1\\.37\\.2`, 'm'));
        const json = JSON.parse((await cli('etcd', 'snapshot', 'list', '--json')).stdout) as { name: string; periodic?: boolean; sha256: string }[];
        const listed = json.find((e) => e.name === periodicRef);
        assert.ok(listed?.periodic, JSON.stringify(json));
        // Into the state folder now (it would be pruned before the restore): checked, with manifest and keys.
        const f = await cli('etcd', 'snapshot', 'fetch', periodicRef);
        assert.equal(f.code, 0, `${f.stdout}\n${f.stderr}`);
        const store = new SnapshotStore(openLocalCluster(configPath).state);
        const m = store.manifest(`${member}-${stem}`);
        assert.equal(m.sha256, listed.sha256);
        assert.equal(createHash('sha256').update(readFileSync(join(store.path(m.name), 'snapshot.db'))).digest('hex'), m.sha256);
        assert.ok(m.etcd.totalKey > CONFIGMAPS + SECRETS && m.keys.includes('encryption.key'), JSON.stringify(m));
        assert.equal(m.member, member);
      });
    }

    it('the namespace is deleted', async () => {
      await kube.delete(`/api/v1/namespaces/${NS}`);
      await waitFor(`namespace ${NS} gone`, 180_000, async () => ((await kube.getOrUndefined(`/api/v1/namespaces/${NS}`)) ? undefined : true));
    });

    it('a corrupted snapshot, and one of another cluster, are refused with nothing changed', async () => {
      const store = new SnapshotStore(openLocalCluster(configPath).state);
      const before = await untouched();
      // One flipped byte in a copy.
      cpSync(store.path('before'), store.path('flipped'), { recursive: true });
      const db = join(store.path('flipped'), 'snapshot.db');
      const bytes = readFileSync(db);
      bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0xff;
      writeFileSync(db, bytes);
      const m = JSON.parse(readFileSync(join(store.path('flipped'), 'manifest.json'), 'utf8'));
      writeFileSync(join(store.path('flipped'), 'manifest.json'), JSON.stringify({ ...m, name: 'flipped' }));
      const bad = await cli('etcd', 'snapshot', 'restore', 'flipped');
      assert.equal(bad.code, 6, bad.stderr);
      assert.match(bad.stderr, /snapshot "flipped" is corrupted: sha256/);
      assert.match(bad.stderr, /nothing was changed/);
      // Another cluster's (its identity differs).
      cpSync(store.path('before'), store.path('foreign'), { recursive: true });
      writeFileSync(join(store.path('foreign'), 'manifest.json'), JSON.stringify({ ...m, name: 'foreign', cluster: 'elsewhere' }));
      const foreign = await cli('etcd', 'snapshot', 'restore', 'foreign');
      assert.equal(foreign.code, 6, foreign.stderr);
      assert.match(foreign.stderr, /belongs to cluster "elsewhere"/);
      assert.equal(await untouched(), before);
      assert.equal(await kube.getOrUndefined(`/api/v1/namespaces/${NS}`), undefined);
    });

    it(`etcd snapshot restore${periodic ? ' of the periodic one' : ''}: every object back, Secrets still encrypted at rest, the pods running, status passes`, async () => {
      const r = await cli('etcd', 'snapshot', 'restore', periodicRef ?? 'before');
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      const aside = /kept on each member in (\S+)/.exec(r.stdout)?.[1];
      assert.ok(aside, r.stdout);
      // The data from before the restore is kept, not deleted.
      assert.equal((await inNode(['test', '-f', `${aside}/member/snap/db`])).code, 0);
      const cms = await kube.get<{ items: { metadata: { name: string }; data: { i: string } }[] }>(`/api/v1/namespaces/${NS}/configmaps?labelSelector=`);
      assert.equal(cms.items.filter((c) => c.metadata.name.startsWith('cm-')).length, CONFIGMAPS);
      const secrets = await kube.get<{ items: { metadata: { name: string }; data: { password: string } }[] }>(`/api/v1/namespaces/${NS}/secrets`);
      const ours = secrets.items.filter((s) => s.metadata.name.startsWith('s-'));
      assert.equal(ours.length, SECRETS);
      assert.equal(Buffer.from(ours.find((s) => s.metadata.name === 's-3')!.data.password, 'base64').toString(), 'hunter3');
      assert.match(await rawSecret('s-3'), /^k8s:enc:secretbox:v1:/);
      assert.equal(await deploymentReady(), 2);
      const status = await cli('status', '--json');
      const failed = (JSON.parse(status.stdout) as { ok: boolean; scope: string; name: string }[]).filter((c) => !c.ok);
      assert.deepEqual(failed, []);
    });
  });
}
