// Issue 14: daily use of a local cluster, on one shared secure cluster of two nodes
// (m1: control plane + etcd + worker; w1: worker). Your own image in (built here on the
// workload image, loaded, run as a Deployment on both nodes; a second load sends
// nothing; a multi-platform archive loads), logs out (each node's service logs, no
// keys, no Secret data), kubeconfig merged into the user's file beside an unrelated
// context and removed again by down; kubectl works without exporting KUBECONFIG.
import { removeLocalCluster } from '../../src/providers/local.js';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import YAML from 'yaml';
import { adminKubeconfigPath, openLocalCluster } from '../../src/pipeline/local.js';
import { DockerEngine } from '../../src/runtime/docker.js';
import { KubeClient, credentialsFromKubeconfig, waitFor } from '../../src/runtime/kube.js';
import { runInProcess } from '../helpers/cli.js';
import { Layout, layerTar, named, writeArchive } from '../helpers/oci-layout.js';
import { MEDIA } from '../../src/runtime/oci-image.js';
import tar from 'tar-stream';
import { ensureImages, fixtureConfig, writeTestCluster } from './harness.js';
import { scratchDir } from '../helpers/scratch.js';

const NAME = 'it14';
const configPath = writeTestCluster(
  NAME,
  `  - { name: m1, address: 192.168.245.10, roles: [control-plane, etcd, worker] }
  - { name: w1, address: 192.168.245.11, roles: [worker] }
`,
);
const docker = new DockerEngine();
const cli = (...args: string[]) => runInProcess([...args, '-c', configPath]);
const HELLO = 'it14-hello:v1'; // a short name: docker.io/library/it14-hello for containerd
const TEST_IMAGE_LABELS = { 'io.k8s-img.managed': 'true', 'io.k8s-img.test': NAME, 'io.k8s-img.component': 'it14-hello' };
const userKubeconfig = process.env.KUBECONFIG!; // the harness's file of its own
const THEIRS = `apiVersion: v1
kind: Config
clusters: [{ name: theirs, cluster: { server: 'https://theirs.example:6443' } }]
users: [{ name: theirs, user: { token: not-ours } }]
contexts: [{ name: theirs, context: { cluster: theirs, user: theirs } }]
current-context: theirs
`;
let kube: KubeClient;
const started = Date.now();

before(async () => {
  await ensureImages(fixtureConfig('tutorial-secure.yaml'));
  await removeLocalCluster(docker, NAME);
  writeFileSync(userKubeconfig, THEIRS, { mode: 0o600 });
});

after(async () => {
  kube?.close();
  await removeLocalCluster(docker, NAME);
  await docker.removeImage(HELLO).catch(() => undefined);
  process.stderr.write(`daily-use.test: ${((Date.now() - started) / 1000).toFixed(0)} s with the cluster\n`);
});

/** `k8s-img load` output: bytes sent per registry copy. */
const sentBytes = (stdout: string) => [...stdout.matchAll(/^ {2}(\S+) {2}(\d+) files, [\d.]+ MB \((\d+) bytes\)$/gm)].map((m) => ({ node: m[1], files: Number(m[2]), bytes: Number(m[3]) }));

type Kc = { contexts: { name: string }[]; 'current-context': string };

describe('daily use of a local cluster', () => {
  it('up merges context k8s-img-it14 into the user\'s kubeconfig, keeping their context; kubectl works without KUBECONFIG exported', async () => {
    const r = await cli('up');
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /current context is now k8s-img-it14/);
    process.stderr.write(`daily-use.test: up: ${/since the start: (.*)/.exec(r.stdout)?.[1]}\n`);
    const kc = YAML.parse(readFileSync(userKubeconfig, 'utf8')) as Kc;
    assert.deepEqual(kc.contexts.map((c) => c.name), ['theirs', 'k8s-img-it14']);
    assert.equal(kc['current-context'], 'k8s-img-it14');
    // kubectl as a user runs it: the default kubeconfig location, nothing exported.
    const home = scratchDir('k8s-img-it14-home-');
    execFileSync('mkdir', ['-p', join(home, '.kube')]);
    writeFileSync(join(home, '.kube', 'config'), readFileSync(userKubeconfig));
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
    delete env.KUBECONFIG;
    const nodes = execFileSync('kubectl', ['get', 'nodes', '-o', 'name'], { env, encoding: 'utf8' });
    assert.deepEqual(nodes.trim().split('\n').sort(), ['node/m1', 'node/w1']);
    kube = new KubeClient(credentialsFromKubeconfig(adminKubeconfigPath(openLocalCluster(configPath).state)));
  });

  it('k8s-img kubeconfig prints the same entries as a file of its own', async () => {
    const r = await cli('kubeconfig');
    assert.equal(r.code, 0, r.stderr);
    const kc = YAML.parse(r.stdout) as Kc;
    assert.deepEqual(kc.contexts.map((c) => c.name), ['k8s-img-it14']);
    assert.equal(kc['current-context'], 'k8s-img-it14');
  });

  it('load: an image built here on the workload image sends only its new layer, and runs as a Deployment on both nodes (imagePullPolicy Always: pulled from the cluster registry)', async () => {
    const ctx = scratchDir('k8s-img-it14-img-');
    writeFileSync(join(ctx, 'hello.txt'), `hello from ${NAME} ${Date.now()}\n`);
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM k8s-img/workload:v1.37.2\nCOPY hello.txt /hello.txt\n');
    await docker.build(ctx, ['Dockerfile', 'hello.txt'], HELLO, TEST_IMAGE_LABELS);
    const r = await cli('load', HELLO);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const sent = sentBytes(r.stdout);
    assert.deepEqual(sent.map((s) => s.node), ['m1']);
    const size = (await docker.imageInfo(HELLO))!.size;
    const firstSend = sent[0]!.bytes;
    process.stderr.write(`daily-use.test: first load sent ${firstSend} bytes of a ${size}-byte image\n`);
    // The base layers are in the registry already (the workload image): the new layer, config and manifest travel.
    assert.ok(firstSend > 0 && firstSend < 64 * 1024, `sent ${firstSend} bytes of a ${size}-byte image`);
    const manifest = /it14-hello:v1 +linux\/amd64 +(sha256:[0-9a-f]+)…/.exec(r.stdout);
    assert.ok(manifest, r.stdout);

    await kube.create('/apis/apps/v1/namespaces/default/deployments', {
      metadata: { name: 'hello' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'hello' } },
        template: {
          metadata: { labels: { app: 'hello' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'hello' } }, topologyKey: 'kubernetes.io/hostname' }] } },
            containers: [{ name: 'hello', image: HELLO, imagePullPolicy: 'Always', readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 } }],
          },
        },
      },
    });
    type Pods = { items: { spec: { nodeName?: string }; status: { containerStatuses?: { ready: boolean; imageID: string }[] } }[] };
    const pods = await waitFor('hello pods ready on both nodes', 180_000, async () => {
      const p = await kube.get<Pods>('/api/v1/namespaces/default/pods?labelSelector=app%3Dhello');
      return p.items.length === 2 && p.items.every((i) => i.status.containerStatuses?.[0]?.ready) ? p.items : undefined;
    }, 1000);
    assert.deepEqual(pods.map((p) => p.spec.nodeName).sort(), ['m1', 'w1']);
    for (const p of pods) assert.match(p.status.containerStatuses![0]!.imageID, new RegExp(`@${manifest[1]!.slice(0, 19)}`));
  });

  it('a second load of the same image sends nothing', async () => {
    const r = await cli('load', HELLO);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.deepEqual(sentBytes(r.stdout), [{ node: 'm1', files: 0, bytes: 0 }]);
  });

  it('a multi-platform OCI archive (amd64, arm64, attestations) loads the nodes\' platform', async () => {
    const l = new Layout();
    const amd = l.image({ os: 'linux', architecture: 'amd64' }, [await layerTar('amd64.txt', 'amd64\n')]);
    const arm = l.image({ os: 'linux', architecture: 'arm64' }, [await layerTar('arm64.txt', 'arm64\n')]);
    const index = l.index([amd, arm, l.attestation(amd), l.attestation(arm)]);
    const file = writeArchive(join(scratchDir('k8s-img-it14-oci-'), 'multi.tar'), await l.tar([named(index, 'it14/multi:v1')]));
    const r = await cli('load', '--archive', file);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, new RegExp(`it14/multi:v1 +linux/amd64 +${amd.digest.slice(0, 19)}`));
    assert.equal(index.mediaType, MEDIA.ociIndex);
  });

  it('logs: one archive with each node\'s service logs, and no keys or Secret data', async () => {
    const marker = `it14-secret-${Date.now()}`;
    await kube.create('/api/v1/namespaces/default/secrets', { metadata: { name: 'it14' }, stringData: { password: marker } });
    const out = scratchDir('k8s-img-it14-logs-');
    const r = await cli('logs', '-o', out);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const archive = /^(\S+\.tar\.gz): \d+ files/m.exec(r.stdout)![1]!;
    const files = new Map<string, string>();
    const extract = tar.extract();
    extract.on('entry', (h, s, next) => {
      const chunks: Buffer[] = [];
      s.on('data', (c) => chunks.push(c as Buffer));
      s.on('end', () => (files.set(h.name, Buffer.concat(chunks).toString('utf8')), next()));
    });
    await new Promise<void>((resolve, reject) => extract.on('finish', () => resolve()).on('error', reject).end(gunzipSync(readFileSync(archive))));
    for (const n of ['m1', 'w1']) {
      for (const f of ['docker-ps.txt', 'ip-addr.txt', 'ip-route.txt', 'iptables-save.txt', 'compose.yaml']) assert.ok(files.get(`it14/${n}/${f}`), `${n}/${f}`);
      assert.match(files.get(`it14/${n}/iptables-save.txt`)!, /KUBE-SERVICES/);
      const services = [...files.keys()].filter((k) => k.startsWith(`it14/${n}/containers/`));
      for (const s of ['containerd', 'kubelet', 'kube-proxy']) assert.ok(services.some((k) => k.includes(s) && files.get(k)!.length > 0), `${n}: ${s} log in ${services.join(' ')}`);
      assert.ok([...files.keys()].some((k) => k.startsWith(`it14/${n}/`) && k.includes('/pods/') || k.startsWith(`it14/${n}/kube-system_`)), `${n}: pod logs`);
    }
    for (const s of ['etcd', 'kube-apiserver']) assert.ok([...files.keys()].some((k) => k.startsWith('it14/m1/containers/') && k.includes(s)), s);
    assert.match(files.get('it14/cluster/pods.json')!, /"hello-/);
    assert.ok(files.get('it14/cluster/events.json'));
    const all = [...files.values()].join('\n');
    assert.doesNotMatch(all, /PRIVATE KEY/);
    assert.ok(!all.includes(marker) && !all.includes(Buffer.from(marker).toString('base64')), 'no Secret data');
    assert.ok(![...files.keys()].some((k) => /secret/i.test(k)), 'no Secret objects');
  });

  it('down removes the cluster and its context; the user\'s other context stays', async () => {
    const r = await cli('down');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /context k8s-img-it14 removed from/);
    const kc = YAML.parse(readFileSync(userKubeconfig, 'utf8')) as Kc;
    assert.deepEqual(kc.contexts.map((c) => c.name), ['theirs']);
  });
});
