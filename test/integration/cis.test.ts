// Issue 13: secure mode hardened to the CIS Kubernetes Benchmark, checked by the product.
// One secure cluster (the tutorial's topology): `k8s-img cis` finds 0 FAIL on the
// master, controlplane, etcd and node targets and reports a real gap when one is made;
// status and verify still pass with the hardened flags; Pod Security, NetworkPolicy,
// seccomp, the etcd user and kubelet certificate rotation are checked on the cluster.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { CisReport } from '../../src/pipeline/cis-report.js';
import { adminKubeconfigPath, names, openLocalCluster } from '../../src/pipeline/local.js';
import { DockerEngine } from '../../src/runtime/docker.js';
import { KubeClient, credentialsFromKubeconfig, waitFor } from '../../src/runtime/kube.js';
import { runInProcess } from '../helpers/cli.js';
import { ownCluster, tutorialNodes, writeTestCluster } from './harness.js';
import { scratchDir } from '../helpers/scratch.js';

const NAME = 'it13cis';
const configPath = writeTestCluster(NAME, tutorialNodes('192.168.221'));
const docker = new DockerEngine();
const cli = (...args: string[]) => runInProcess([...args, '-c', configPath]);
const inNode = (n: string, cmd: string[]) => docker.exec(names.node(NAME, n), cmd);
const WORKLOAD = 'k8s-img/workload:v1.37.2';
let kube: KubeClient;
ownCluster(docker, NAME, () => kube, 'cis.test');

type Pod = { status: { phase: string; podIP?: string; conditions?: { type: string; status: string }[] } };

/** A workload pod that runs one client command; resolves to its phase and log. */
async function oneShot(ns: string, name: string, args: string[]): Promise<{ phase: string; log: string }> {
  await kube.create(`/api/v1/namespaces/${ns}/pods`, {
    metadata: { name },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 1,
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{ name: 'w', image: WORKLOAD, args, securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
    },
  });
  const phase = await waitFor(`pod ${name} done`, 120_000, async () => {
    const p = await kube.get<Pod>(`/api/v1/namespaces/${ns}/pods/${name}`);
    return ['Succeeded', 'Failed'].includes(p.status.phase) ? p.status.phase : undefined;
  }, 500);
  const log = await kube.text(`/api/v1/namespaces/${ns}/pods/${name}/log`);
  await kube.delete(`/api/v1/namespaces/${ns}/pods/${name}?gracePeriodSeconds=0`);
  return { phase, log };
}

describe('a hardened secure cluster', () => {
  it('k8s-img up brings it up', async () => {
    const r = await cli('up');
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    kube = new KubeClient(credentialsFromKubeconfig(adminKubeconfigPath(openLocalCluster(configPath).state)));
  });

  it('k8s-img status: every check passes (controller-manager and scheduler now listen on 127.0.0.1)', async () => {
    const r = await cli('status', '--json');
    const checks = JSON.parse(r.stdout) as { scope: string; name: string; ok: boolean; url?: string }[];
    assert.deepEqual(checks.filter((c) => !c.ok), []);
    assert.ok(checks.some((c) => c.name === 'kube-controller-manager' && c.ok && c.url === 'https://127.0.0.1:10257/healthz'));
    assert.ok(checks.some((c) => c.name === 'kube-scheduler' && c.ok));
    const listening = await inNode('sm1', ['sh', '-c', 'cat /proc/net/tcp /proc/net/tcp6']);
    // Listening sockets (state 0A) of 10257 and 10259: on 127.0.0.1 (0100007F) only.
    for (const port of [10257, 10259].map((p) => p.toString(16).toUpperCase())) {
      const lines = listening.stdout.split('\n').filter((l) => new RegExp(`^\\s*\\d+: [0-9A-F]+:${port} [0-9A-F]+:0000 0A`).test(l));
      assert.ok(lines.length > 0, `port 0x${port} listens`);
      for (const l of lines) assert.match(l, new RegExp(`: 0100007F:${port} `), `0x${port} bound to 127.0.0.1 only: ${l}`);
    }
  });
});

describe('k8s-img cis', () => {
  const out = join(scratchDir('k8s-img-cis-'), 'results');
  let report: CisReport;

  it('0 FAIL on the master, controlplane, etcd and node targets; each target where the roles call for it', async () => {
    const r = await cli('cis', '--json', '-o', out);
    assert.ok(r.stdout.trim(), `exit ${r.code}: ${r.stderr}`);
    report = JSON.parse(r.stdout) as CisReport;
    const runs = Object.fromEntries(report.nodes.map((n) => [n.node, n.runs.map((x) => x.target)]));
    assert.deepEqual(runs, { sm1: ['master', 'controlplane', 'node', 'policies'], sw1: ['master', 'etcd', 'node'], sw2: ['node'] });
    const failed = report.nodes.flatMap((n) => n.runs.flatMap((run) => run.checks.filter((c) => c.status === 'FAIL').map((c) => `${n.node} ${run.target} ${c.id} ${c.actual ?? ''}`)));
    assert.deepEqual(failed, []);
    assert.equal(r.code, 0, r.stderr);
    for (const n of report.nodes) for (const run of n.runs) if (run.target !== 'policies') assert.ok(run.pass > 0, `${n.node} ${run.target} passed nothing`);
  });

  it('the gaps of the issue are closed, by what kube-bench read on the nodes', () => {
    const check = (node: string, target: string, id: string) => report.nodes.find((n) => n.node === node)!.runs.find((r) => r.target === target)!.checks.find((c) => c.id === id)!;
    const expect = (node: string, target: string, id: string, actual: RegExp) => {
      const c = check(node, target, id);
      assert.equal(c.status, 'PASS', `${node} ${id}: ${c.actual}`);
      assert.match(c.actual ?? '', actual, `${node} ${id}`);
    };
    expect('sm1', 'master', '1.1.1', /^permissions=600$/); // compose.yaml
    expect('sm1', 'master', '1.2.15', /--profiling=false/);
    expect('sm1', 'master', '1.2.18', /--audit-log-maxbackup=10/);
    expect('sm1', 'master', '1.2.30', /--service-account-extend-token-expiration=false/);
    expect('sm1', 'master', '1.3.2', /kube-controller-manager .*--profiling=false/);
    expect('sm1', 'master', '1.3.7', /kube-controller-manager .*--bind-address=127\.0\.0\.1/);
    expect('sm1', 'master', '1.4.1', /kube-scheduler .*--profiling=false/);
    expect('sm1', 'master', '1.4.2', /kube-scheduler .*--bind-address=127\.0\.0\.1/);
    expect('sw1', 'master', '1.1.11', /^permissions=700$/);
    expect('sw1', 'master', '1.1.12', /^etcd:etcd$/);
    expect('sw1', 'master', '1.1.19-etcd', /^(etcd:etcd\s*)+$/);
    for (const n of ['sm1', 'sw1', 'sw2']) {
      expect(n, 'node', '4.1.1', /^permissions=600$/);
      expect(n, 'node', '4.1.9', /^permissions=600$/);
      for (const [id, setting] of [['4.2.10', 'rotateCertificates: true'], ['4.2.12', 'tlsCipherSuites: \\[TLS_ECDHE'], ['4.2.13', 'podPidsLimit: 4096'], ['4.2.14', 'seccompDefault: true']]) {
        expect(n, 'node', id!, new RegExp(setting!));
      }
    }
  });

  it("kubeadm's paths are listed with what was checked instead, checks that cannot apply with where they are checked", () => {
    const sm1 = report.nodes.find((n) => n.node === 'sm1')!;
    const master = sm1.runs.find((r) => r.target === 'master')!;
    const c = (id: string) => master.checks.find((x) => x.id === id)!;
    assert.match(c('1.1.1').equivalent!.instead, /^\/opt\/k8s-img\/bundle\/compose\.yaml/);
    assert.equal(c('1.1.13').status, 'PASS');
    assert.match(c('1.1.13').actual!, /^permissions=600 \/opt\/k8s-img\/bundle\/addons\/kubeconfig$/);
    assert.match(c('1.1.19').actual!, /^(root:root\s*)+$/);
    assert.ok(c('1.1.19').actual!.split(/\s+/).filter(Boolean).length >= 20, 'every pki folder was listed');
    assert.equal(c('1.2.28').actual, 'provider=secretbox');
    for (const id of ['1.1.7', '1.1.8', '1.1.11', '1.1.12']) {
      assert.equal(c(id).status, 'N/A');
      assert.equal(c(id).notApplicable, 'no etcd member on this node: checked on sw1');
    }
    // The cluster-wide checks ran their commands (jq, POSIX sh), so their WARN is the benchmark's "review this".
    const policies = sm1.runs.find((r) => r.target === 'policies')!;
    for (const id of ['5.1.1', '5.1.3', '5.2.2']) {
      const p = policies.checks.find((x) => x.id === id)!;
      assert.match(p.actual ?? '', /is_compliant: true/, `${id}: ${p.actual}`);
      assert.doesNotMatch(p.actual ?? '', /not found/, id);
    }
    const text = readFileSync(join(out, 'report.txt'), 'utf8');
    assert.match(text, /^ {2}n\/a {2}master 1\.1\.7 1\.1\.8 1\.1\.11 1\.1\.12: no etcd member on this node: checked on sw1$/m);
    assert.match(text, /^ {4}master 1\.1\.13 1\.1\.14 \[PASS PASS\]: \/etc\/kubernetes\/admin\.conf and super-admin\.conf → \/opt\/k8s-img\/bundle\/addons\/kubeconfig/m);
    assert.match(text, /^total: master 0 FAIL, controlplane 0 FAIL, node 0 FAIL, policies 0 FAIL, etcd 0 FAIL;/m);
    // -o DIR: kube-bench's own output and the definitions it ran, per node.
    for (const f of ['.k8s-img-cis', 'sm1/kube-bench-master.json', 'sm1/cfg/master.yaml', 'sw1/kube-bench-etcd.json', 'sw2/config.yaml']) assert.ok(existsSync(join(out, f)), f);
    assert.match(readFileSync(join(out, 'sm1/cfg/master.yaml'), 'utf8'), /find \/opt\/k8s-img\/bundle\/kube-apiserver\/pki /);
  });

  it('nothing of kube-bench stays on the nodes', async () => {
    for (const n of ['sm1', 'sw1', 'sw2']) {
      const r = await inNode(n, ['sh', '-c', 'ls -A /var/lib/k8s-img/cis']);
      assert.equal(r.stdout.trim(), '', n);
    }
  });

  it('a real gap is a FAIL with what was found, exit 6; the output folder is replaced', async () => {
    await inNode('sw2', ['chmod', '644', '/opt/k8s-img/bundle/compose.yaml']);
    try {
      const r = await cli('cis', '-o', out);
      assert.equal(r.code, 6, r.stderr);
      assert.match(r.stdout, /^ {2}FAIL node 4\.1\.1 Ensure that the kubelet service file permissions are set to 600 or more restrictive \(Automated\)\n {7}expected permissions has permissions 644, expected 600 or more restrictive; found permissions=644$/m);
      assert.match(r.stderr, /1 CIS check\(s\) failed: sw2 node 4\.1\.1/);
      assert.match(readFileSync(join(out, 'report.txt'), 'utf8'), /node 1 FAIL/);
    } finally {
      await inNode('sw2', ['chmod', '600', '/opt/k8s-img/bundle/compose.yaml']);
    }
  });
});

describe('hardening seen from the cluster', () => {
  it('etcd runs as the user etcd; bundle files that hold flags, configuration or keys are root\'s only', async () => {
    const ps = await inNode('sw1', ['ps', '-o', 'user=', '-C', 'etcd']);
    assert.equal(ps.stdout.trim(), 'etcd');
    for (const n of ['sm1', 'sw1', 'sw2']) {
      // Public by nature: certificates, public keys, the images' SBOMs and archive checksums.
      const open = await inNode(n, ['sh', '-c', "find /opt/k8s-img/bundle \\( -path '*/registry-storage' -o -path '*/sbom' \\) -prune -o -type f ! -name '*.crt' ! -name '*.pub' ! -name 'images.sha256' -perm /077 -print"]);
      assert.equal(open.code, 0, open.stderr);
      assert.equal(open.stdout.trim(), '', `${n}: files others can read`);
    }
  });

  it('Pod Security: baseline enforced and restricted warned by default; a namespace label opts out', async () => {
    const pod = (name: string, privileged: boolean) => ({
      metadata: { name },
      spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'w', image: WORKLOAD, args: ['serve'], ...(privileged ? { securityContext: { privileged: true } } : {}) }] },
    });
    const refused = await kube.raw('POST', '/api/v1/namespaces/default/pods', pod('privileged', true));
    assert.equal(refused.status, 403, refused.text);
    assert.match(refused.text, /violates PodSecurity \\"baseline:latest\\": privileged/);
    const warned = await kube.raw('POST', '/api/v1/namespaces/default/pods', pod('plain', false));
    assert.equal(warned.status, 201, warned.text);
    assert.match(warned.warning ?? '', /would violate PodSecurity \\"restricted:latest\\": allowPrivilegeEscalation != false/);
    await kube.delete('/api/v1/namespaces/default/pods/plain?gracePeriodSeconds=0');
    // What the conformance suite's framework does for tests that need privileged pods.
    await kube.create('/api/v1/namespaces', { metadata: { name: 'it13-privileged', labels: { 'pod-security.kubernetes.io/enforce': 'privileged' } } });
    const allowed = await kube.raw('POST', '/api/v1/namespaces/it13-privileged/pods', pod('privileged', true));
    assert.equal(allowed.status, 201, allowed.text);
    await kube.delete('/api/v1/namespaces/it13-privileged');
  });

  it('a pod without a seccomp profile runs under the runtime default one', async () => {
    await kube.create('/api/v1/namespaces/default/pods', {
      metadata: { name: 'no-profile' },
      spec: { nodeName: 'sw2', terminationGracePeriodSeconds: 1, containers: [{ name: 'w', image: WORKLOAD, args: ['serve'] }] },
    });
    await waitFor('no-profile running', 120_000, async () => ((await kube.get<Pod>('/api/v1/namespaces/default/pods/no-profile')).status.phase === 'Running' ? true : undefined), 500);
    // Anchored: the shell running this loop has the words in its own command line.
    const r = await inNode('sw2', ['sh', '-c', 'for p in $(pgrep -f "^/usr/local/bin/k8s-img-workload serve"); do grep "^Seccomp:" /proc/$p/status; done']);
    assert.match(r.stdout, /^Seccomp:\s+2$/m, r.stdout);
    assert.doesNotMatch(r.stdout, /^Seccomp:\s+0$/m, 'no workload runs without a filter');
    await kube.delete('/api/v1/namespaces/default/pods/no-profile?gracePeriodSeconds=0');
  });

  it('NetworkPolicy: CoreDNS answers DNS from every namespace, its other ports only kube-system', async () => {
    const dns = await kube.get<{ items: { status: { podIP?: string } }[] }>('/api/v1/namespaces/kube-system/pods?labelSelector=k8s-app%3Dkube-dns');
    const ip = dns.items.find((p) => p.status.podIP)!.status.podIP!;
    await kube.create('/api/v1/namespaces', { metadata: { name: 'it13-netpol' } });
    try {
      const resolved = await oneShot('it13-netpol', 'resolve', ['resolve', '-timeout', '20s', `kubernetes.default.svc.cluster.local`]);
      assert.equal(resolved.phase, 'Succeeded', resolved.log);
      const blocked = await oneShot('it13-netpol', 'health', ['http', '-timeout', '5s', `http://${ip}:8080/health`]);
      assert.equal(blocked.phase, 'Failed', `CoreDNS's health port answered another namespace: ${blocked.log}`);
      // The same request from kube-system is answered: the port is served, the policy is what stops it.
      const inside = await oneShot('kube-system', 'it13-health', ['http', '-timeout', '20s', `http://${ip}:8080/health`]);
      assert.equal(inside.phase, 'Succeeded', inside.log);
    } finally {
      await kube.delete('/api/v1/namespaces/it13-netpol');
    }
  });

  it("kubelets can renew their client certificates: a node's CSR is approved and signed", async () => {
    const { state } = openLocalCluster(configPath);
    const asNode = new KubeClient({ server: 'https://192.168.221.206:6443', ca: state.read('ca.crt')!, cert: state.read('kubelet-sw2.crt')!, key: state.read('kubelet-sw2.key')! });
    try {
      x509.cryptoProvider.set(globalThis.crypto);
      const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
      const keys = await globalThis.crypto.subtle.generateKey(alg, true, ['sign', 'verify']);
      const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'O=system:nodes, CN=system:node:sw2', keys, signingAlgorithm: alg });
      const created = await asNode.create<{ metadata: { name: string } }>('/apis/certificates.k8s.io/v1/certificatesigningrequests', {
        metadata: { generateName: 'it13-rotation-' },
        spec: { request: Buffer.from(csr.toString('pem')).toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'] },
      });
      const issued = await waitFor('CSR approved and issued', 60_000, async () => {
        const c = await kube.get<{ status: { certificate?: string; conditions?: { type: string }[] } }>(`/apis/certificates.k8s.io/v1/certificatesigningrequests/${created.metadata.name}`);
        return c.status.certificate && c.status.conditions?.some((x) => x.type === 'Approved') ? c.status.certificate : undefined;
      });
      const cert = new x509.X509Certificate(Buffer.from(issued, 'base64').toString());
      assert.equal(cert.subject, 'O=system:nodes, CN=system:node:sw2');
      assert.equal(cert.issuer, new x509.X509Certificate(state.read('ca.crt')!).subject);
      await kube.delete(`/apis/certificates.k8s.io/v1/certificatesigningrequests/${created.metadata.name}`);
    } finally {
      asNode.close();
    }
  });

  it('k8s-img verify: every smoke test passes under the hardened defaults', async () => {
    const r = await cli('verify');
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /10 passed, 0 failed/);
  });
});
