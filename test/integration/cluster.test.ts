// Issues 4 and 5: a real three-node cluster in local mode, in secure mode (the
// default): `up`, `status`, `verify`, recovery from killed components and a
// restarted node, the security properties, and a `down` that leaves nothing.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { connect } from 'node:tls';
import { request } from 'node:https';
import { getContainerRuntimeClient } from 'testcontainers';
import { TEST_LABEL, adminKubeconfigPath, clusterLabels, names, openLocalCluster } from '../../src/pipeline/local.js';
import { KubeClient, credentialsFromKubeconfig, waitFor } from '../../src/runtime/kube.js';
import { DockerEngine } from '../../src/runtime/docker.js';
import { runCli } from '../helpers/cli.js';
import { IT_IMAGES, ownCluster, testName, testNet, tutorialNodes, writeTestCluster } from './harness.js';

const NAME = testName('secure');
const NET = testNet(0);
const configPath = writeTestCluster(NAME, tutorialNodes(NET));
const WORKLOAD = `${IT_IMAGES}/workload:v1.37.2`;
const docker = new DockerEngine();
let kube: KubeClient;
const cli = (...args: string[]) => runCli([...args, '-c', configPath], { timeoutMs: 900_000 });
const node = (n: string) => names.node(NAME, n);
const inNode = (n: string, cmd: string[]) => docker.exec(node(n), cmd);
/** A shell command in a throwaway container with local mode's node storage volume at /nodes. */
const inNodeStorage = (script: string) =>
  docker.runToCompletion({ Image: `${IT_IMAGES}/node:0.1.0`, Entrypoint: ['sh', '-c', script], HostConfig: { Mounts: [{ Type: 'volume', Source: names.nodeStorage, Target: '/nodes' }] }, Labels: { [TEST_LABEL]: NAME } } as never);
/** A crash, not a stop: `docker kill` counts as a manual stop and disables the restart policy. */
const crash = (n: string, service: string) => inNode(n, ['sh', '-c', `kill -9 $(docker inspect -f '{{.State.Pid}}' k8s-img-${service})`]);

async function apiReady(): Promise<void> {
  await waitFor('apiserver /readyz', 180_000, async () => ((await kube.raw('GET', '/readyz')).status === 200 ? true : undefined));
}

async function configMapSurvives(name: string): Promise<void> {
  const cm = await waitFor(`ConfigMap ${name}`, 120_000, () => kube.getOrUndefined<{ data: Record<string, string> }>(`/api/v1/namespaces/default/configmaps/${name}`));
  assert.equal(cm.data.created, 'before the fault');
}

ownCluster(docker, NAME, () => kube, 'cluster.test');

describe('local cluster, secure mode', () => {
  it('k8s-img up brings three nodes to Ready with CoreDNS', () => {
    const r = cli('up');
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, new RegExp(`Cluster "${NAME}" is up \\(secure mode\\): 3 nodes Ready \\(sm1, sw1, sw2\\), CoreDNS ready`));
    const { state } = openLocalCluster(configPath);
    kube = new KubeClient(credentialsFromKubeconfig(adminKubeconfigPath(state)));
    // New nodes start from the image store: their images are there before the node step.
    for (const n of ['sm1', 'sw1', 'sw2']) assert.match(r.stderr, new RegExp(`✓ ${n} \\(container [^)]+\\): .*images already there`), r.stderr);
  });

  it("a node's image layers are links into the image store, not copies", async () => {
    // Every file of every image layer in sw2's engine has another link (the store's, the other nodes').
    const script = 'n=0; one=0; for f in /var/lib/docker/image/overlay2/layerdb/sha256/*/cache-id; do c=$(cat $f); n=$((n + $(find /var/lib/docker/overlay2/$c/diff -type f | wc -l))); one=$((one + $(find /var/lib/docker/overlay2/$c/diff -type f -links 1 | wc -l))); done; echo "$n $one"';
    const r = await inNode('sw2', ['sh', '-c', script]);
    assert.equal(r.code, 0, r.stderr);
    const [files, single] = r.stdout.trim().split(' ').map(Number);
    assert.ok(files! > 100, `only ${files} layer files in sw2's engine`);
    assert.equal(single, 0, `${single} of ${files} layer files in sw2 have no other link`);
    const store = await inNodeStorage(`ls /nodes/${names.nodeDir(NAME)} /nodes/store`);
    assert.equal(store.code, 0, store.output);
    assert.match(store.output, /sm1\nsw1\nsw2\n/);
  });

  it('k8s-img status: every check passes', () => {
    const r = cli('status', '--json');
    const checks = JSON.parse(r.stdout) as { scope: string; name: string; ok: boolean; detail: string }[];
    assert.deepEqual(checks.filter((c) => !c.ok), []);
    assert.equal(r.code, 0);
    for (const n of ['sm1', 'sw1', 'sw2']) {
      for (const svc of ['kubelet', 'kube-proxy', 'calico-node']) assert.ok(checks.some((c) => c.scope === n && c.name === svc && c.ok), `${n}/${svc}`);
    }
    assert.ok(checks.some((c) => c.name === 'etcd sw1' && /"health":"true"/.test(c.detail)));
    assert.ok(checks.some((c) => c.name === 'calico IP pool' && /172\.20\.0\.0\/16 vxlan=Always/.test(c.detail)));
  });

  it('k8s-img verify: every smoke test passes', () => {
    const r = cli('verify');
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /pod → pod, UDP, across nodes/);
    assert.match(r.stdout, /10 passed, 0 failed/);
  });

  it('status names the node, component, URL and logs of a failing check', async () => {
    await inNode('sw2', ['docker', 'stop', 'k8s-img-kube-proxy']);
    const r = cli('status');
    assert.equal(r.code, 6, r.stdout);
    assert.match(r.stdout, /node sw2\n(.*\n)*? {2}✗ kube-proxy +exited/);
    assert.match(r.stdout, /probed: http:\/\/127\.0\.0\.1:10256\/livez/);
    assert.match(r.stdout, /\| .*kube-proxy|\| I\d{4}/);
    // What an operator does: compose brings the stopped service back.
    const up = await inNode('sw2', ['sh', '-c', 'cd /opt/k8s-img/bundle && docker compose up -d']);
    assert.equal(up.code, 0, up.stderr);
    await waitFor('kube-proxy healthy again', 120_000, async () => ((await inNode('sw2', ['docker', 'inspect', '-f', '{{.State.Health.Status}}', 'k8s-img-kube-proxy'])).stdout.trim() === 'healthy' ? true : undefined));
  });
});

describe('the cluster registry', () => {
  it('pods pull every name from the cluster registry and nothing is looked up outside', async () => {
    // An image no one built, named after an outside registry: the pull must fail at the
    // cluster's registry (on sm1), never with a lookup of registry.k8s.io.
    await kube.create('/api/v1/namespaces/default/pods', {
      metadata: { name: 'not-built' },
      spec: { nodeName: 'sw2', containers: [{ name: 'w', image: 'registry.k8s.io/k8s-img-never-built:1.0', imagePullPolicy: 'Always' }], terminationGracePeriodSeconds: 1 },
    });
    const message = await waitFor('a failed pull event', 120_000, async () => {
      const ev = await kube.get<{ items: { reason: string; message: string }[] }>('/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dnot-built');
      return ev.items.find((e) => e.reason === 'Failed' && /pull/i.test(e.message))?.message;
    });
    assert.match(message, /registry\.k8s\.io\/k8s-img-never-built:1\.0: not found/, message);
    assert.doesNotMatch(message, /lookup |dial tcp/, message);
    // The question reached the cluster's registry, from sw2's containerd, as a mirror of registry.k8s.io.
    const logs = await inNode('sm1', ['docker', 'logs', 'k8s-img-registry']);
    assert.match(`${logs.stdout}${logs.stderr}`, new RegExp(`${NET.replace(/\./g, '\\.')}\\.208 .*"HEAD /v2/k8s-img-never-built/manifests/1\\.0\\?ns=registry\\.k8s\\.io HTTP/1\\.1" 404`));
    await kube.delete('/api/v1/namespaces/default/pods/not-built?gracePeriodSeconds=0');
  });

  it('the registry serves the pod images over TLS (cluster CA) and refuses pushes', async () => {
    const { state } = openLocalCluster(configPath);
    const ask = (method: string, path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({ host: `${NET}.206`, port: 5000, path, method, ca: state.read('ca.crt')!, timeout: 5000 }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    const catalog = await ask('GET', '/v2/_catalog');
    assert.equal(catalog.status, 200);
    assert.deepEqual(JSON.parse(catalog.body).repositories, ['coredns', 'pause', 'workload'].map((i) => `${IT_IMAGES}/${i}`));
    assert.equal((await ask('POST', `/v2/${IT_IMAGES}/pause/blobs/uploads/`)).status, 405, 'read-only: nothing can be pushed');
  });
});

describe('recovery', () => {
  before(async () => {
    await kube.create('/api/v1/namespaces/default/configmaps', { metadata: { name: 'survivor' }, data: { created: 'before the fault' } });
  });

  for (const [component, where] of [['kube-apiserver', 'sm1'], ['etcd', 'sw1']] as const) {
    it(`${component} killed on ${where}: restarted, objects still there`, async () => {
      const killed = await crash(where, component);
      assert.equal(killed.code, 0, killed.stderr);
      await apiReady();
      await configMapSurvives('survivor');
      await kube.create('/api/v1/namespaces/default/configmaps', { metadata: { name: `after-${component}` }, data: { created: 'after' } });
    });
  }

  it('containerd restarted on sw1: its pods keep running, not restarted', async () => {
    await kube.create('/api/v1/namespaces/default/pods', {
      metadata: { name: 'outlives-containerd' },
      spec: { nodeName: 'sw1', containers: [{ name: 'w', image: WORKLOAD, args: ['serve'] }], terminationGracePeriodSeconds: 1 },
    });
    type P = { status: { containerStatuses?: { ready: boolean; restartCount: number; containerID?: string }[] } };
    const id = await waitFor('pod ready', 120_000, async () => {
      const cs = (await kube.get<P>('/api/v1/namespaces/default/pods/outlives-containerd')).status.containerStatuses?.[0];
      return cs?.ready ? cs.containerID : undefined;
    });
    const r = await inNode('sw1', ['docker', 'restart', 'k8s-img-containerd']);
    assert.equal(r.code, 0, r.stderr);
    await waitFor('containerd healthy again', 120_000, async () => ((await inNode('sw1', ['docker', 'inspect', '-f', '{{.State.Health.Status}}', 'k8s-img-containerd'])).stdout.trim() === 'healthy' ? true : undefined));
    const cs = (await kube.get<P>('/api/v1/namespaces/default/pods/outlives-containerd')).status.containerStatuses![0]!;
    assert.equal(cs.containerID, id);
    assert.equal(cs.restartCount, 0);
  });

  it('kube-scheduler killed: restarted, new pods are scheduled again', async () => {
    const killed = await crash('sm1', 'kube-scheduler');
    assert.equal(killed.code, 0, killed.stderr);
    const pod = {
      metadata: { name: 'after-scheduler' },
      spec: { containers: [{ name: 'w', image: WORKLOAD, imagePullPolicy: 'Always', args: ['serve'] }], terminationGracePeriodSeconds: 1 },
    };
    await kube.create('/api/v1/namespaces/default/pods', pod);
    const scheduled = await waitFor('pod scheduled and running', 180_000, async () => {
      const p = await kube.get<{ spec: { nodeName?: string }; status: { phase: string } }>('/api/v1/namespaces/default/pods/after-scheduler');
      return p.status.phase === 'Running' ? p.spec.nodeName : undefined;
    });
    assert.ok(['sw1', 'sw2'].includes(scheduled!));
    await configMapSurvives('survivor');
  });

  it('a restarted worker node comes back Ready and its pods run again', async () => {
    await kube.create('/api/v1/namespaces/default/pods', {
      metadata: { name: 'on-sw2' },
      spec: { nodeName: 'sw2', containers: [{ name: 'w', image: WORKLOAD, imagePullPolicy: 'IfNotPresent', args: ['serve'] }], terminationGracePeriodSeconds: 1 },
    });
    const running = () =>
      kube.get<{ status: { phase: string; containerStatuses?: { ready: boolean; restartCount: number; containerID?: string }[] } }>('/api/v1/namespaces/default/pods/on-sw2');
    const before = await waitFor('on-sw2 running', 120_000, async () => {
      const p = await running();
      return p.status.containerStatuses?.[0]?.ready ? p.status.containerStatuses[0].containerID : undefined;
    });
    await getContainerRuntimeClient().then((c) => c.container.restart(c.container.getById(node('sw2')), { timeout: 10_000 }));
    await waitFor('sw2 Ready and its pod running in a new container', 300_000, async () => {
      const n = await kube.get<{ status: { conditions: { type: string; status: string }[] } }>('/api/v1/nodes/sw2');
      const ready = n.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True');
      const p = await running();
      const cs = p.status.containerStatuses?.[0];
      return ready && cs?.ready && cs.containerID !== before ? true : undefined;
    });
    await configMapSurvives('survivor');
  });

  it('verify still passes after all of that', () => {
    const r = cli('verify');
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  });
});

describe('security (secure mode)', () => {
  const api = `https://${NET}.206:6443`;

  function anonymous(url: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = request(url, { rejectUnauthorized: false, timeout: 5000 }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('the API refuses anonymous requests, but answers health checks', async () => {
    assert.equal(await anonymous(`${api}/api/v1/namespaces`), 401);
    assert.equal(await anonymous(`${api}/version`), 401);
    assert.equal(await anonymous(`${api}/readyz`), 200);
  });

  it('the kubelet API refuses a request without a client certificate', async () => {
    assert.equal(await anonymous(`https://${NET}.207:10250/pods`), 401);
  });

  it('etcd refuses a client without a certificate', async () => {
    const err = await new Promise<string>((resolve) => {
      const s = connect({ host: `${NET}.207`, port: 2379, rejectUnauthorized: false }, () => {
        s.write('GET /version HTTP/1.0\r\n\r\n');
      });
      s.on('data', (d) => resolve(`answered: ${d.toString().split('\n')[0]}`));
      s.on('error', (e) => resolve(`refused: ${e.message}`));
      s.on('end', () => resolve('refused: closed'));
    });
    assert.match(err, /^refused/);
    const plain = await inNode('sw1', ['sh', '-c', 'exec 3<>/dev/tcp/127.0.0.1/2379 && printf "GET /version HTTP/1.0\\r\\n\\r\\n" >&3 && timeout 3 cat <&3 || true']);
    assert.doesNotMatch(plain.stdout, /etcdserver/, 'no plaintext answer on the client port');
  });

  it("a node's credentials cannot read a Secret unrelated to its pods", async () => {
    await kube.create('/api/v1/namespaces/default/secrets', { metadata: { name: 'unrelated' }, stringData: { password: 'k8s-img-plaintext-canary' } });
    const { state } = openLocalCluster(configPath);
    const asNode = new KubeClient({
      server: api,
      ca: state.read('ca.crt')!,
      cert: state.read('kubelet-sw1.crt')!,
      key: state.read('kubelet-sw1.key')!,
    });
    try {
      const r = await asNode.raw('GET', '/api/v1/namespaces/default/secrets/unrelated');
      assert.equal(r.status, 403, r.text);
      const list = await asNode.raw('GET', '/api/v1/secrets');
      assert.equal(list.status, 403);
      const own = await asNode.raw('GET', '/api/v1/nodes/sw1');
      assert.equal(own.status, 200, 'the node can still read its own Node object');
    } finally {
      asNode.close();
    }
  });

  it('a Secret is not stored as plaintext in etcd', async () => {
    const pki = '/etc/kubernetes/pki';
    const r = await inNode('sw1', [
      'docker', 'exec', 'k8s-img-etcd', 'etcdctl', '--endpoints=https://127.0.0.1:2379',
      `--cacert=${pki}/etcd-ca.crt`, `--cert=${pki}/etcd-server.crt`, `--key=${pki}/etcd-server.key`,
      'get', '/registry/secrets/default/unrelated', '--print-value-only',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^k8s:enc:secretbox:v1:key1:/);
    assert.ok(!r.stdout.includes('k8s-img-plaintext-canary'));
  });

  it('the audit log records requests, with rotation settings from the tutorial', async () => {
    const r = await inNode('sm1', ['sh', '-c', 'tail -n 50 /var/log/kubernetes/audit.log']);
    assert.match(r.stdout, /"kind":"Event"/);
    assert.match(r.stdout, /"user":\{"username":"kubernetes-admin"/);
  });
});

describe('down', () => {
  it('removes every container, network and volume of the cluster', async () => {
    const r = cli('down');
    assert.equal(r.code, 0, r.stderr);
    const labels = clusterLabels(NAME);
    assert.deepEqual(await docker.list(labels), []);
    const filters = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
    assert.deepEqual((await docker.api.listVolumes({ filters })).Volumes ?? [], []);
    assert.deepEqual(await docker.api.listNetworks({ filters }), []);
    // Its nodes' folders are gone from the node storage volume; the image stores stay for the next `up`.
    const left = await inNodeStorage('ls -A /nodes/clusters; ls /nodes/store | wc -l');
    assert.equal(left.code, 0, left.output);
    assert.doesNotMatch(left.output, new RegExp(`^${NAME}$`, 'm'));
    assert.match(left.output, /^[1-9]\d*$/m);
  });
});
