import { scratchDir } from '../helpers/scratch.js';
import assert from 'node:assert/strict';
import { cpSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { ClusterError, UsageError } from '../../src/errors.js';
import { checkCerts, formatCertTable, renewLeaves } from '../../src/pipeline/certs.js';
import type { CAName, LeafSpec } from '../../src/plan/pki.js';
import { planCluster } from '../../src/plan/plan.js';
import { X509Certificate } from 'node:crypto';
import { caSigner, createCA, describeCert, issueLeaf, issueLeafWithLibrary, keyMatchesCert, leafTbs, verifiedBy } from '../../src/pki/x509.js';
import { renderBundles, type Secrets } from '../../src/render/bundle.js';
import { defaultIssuers } from '../../src/runtime/issuers.js';
import { makePkiIssuer, pkiIssuer } from '../../src/runtime/pki-issuer.js';
import { StateDir } from '../../src/runtime/state.js';
import { loadTemplates } from '../../src/runtime/templates.js';
import { loadFixture } from '../helpers/fixtures.js';

const plan = planCluster(loadFixture('valid/tutorial-secure.yaml'));
const pki = plan.pki!;
const CAS: CAName[] = ['ca', 'etcd-ca', 'front-proxy-ca'];
const DAY = 86_400_000;
const HOUR = 3_600_000;

const dirs: string[] = [];
const tmp = () => {
  const d = scratchDir('k8s-img-pki-');
  dirs.push(d);
  return d;
};
/** A copy of the issued state folder, for tests that change it. */
const copyState = (state: StateDir) => {
  const d = tmp();
  cpSync(state.dir, d, { recursive: true });
  return new StateDir(d);
};
const leaf = (name: string): LeafSpec => pki.leaves.find((l) => l.name === name)!;
const cert = (state: StateDir, name: string) => describeCert(state.read(`${name}.crt`)!);
const mode = (path: string) => statSync(path).mode & 0o777;

let state: StateDir;
let secrets: Secrets;
let t0: number; // issuing started
let t1: number; // issuing ended

before(async () => {
  state = new StateDir(join(tmp(), 'state'));
  t0 = Date.now();
  secrets = await state.ensure(plan, defaultIssuers());
  t1 = Date.now();
});
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('issued certificates', () => {
  it('the plan has three CAs and leaves in secure mode only', () => {
    assert.deepEqual(pki.cas.map((c) => c.name), CAS);
    assert.equal(planCluster(loadFixture('valid/tutorial-simple.yaml')).pki, undefined);
  });

  it('CAs: self-signed, CA flag, no EKU, ten years from an hour ago', () => {
    for (const spec of pki.cas) {
      const c = cert(state, spec.name);
      assert.equal(c.commonName, spec.commonName);
      assert.equal(c.subject, `CN=${spec.commonName}`);
      assert.equal(c.issuer, c.subject);
      assert.equal(c.isCA, true, spec.name);
      assert.deepEqual(c.extKeyUsages, []);
      assert.ok(c.notBefore.getTime() <= Date.now());
      assert.ok(c.notBefore.getTime() >= t0 - HOUR - 1000 && c.notBefore.getTime() <= t1 - HOUR, 'notBefore is an hour back');
      const years = (c.notAfter.getTime() - c.notBefore.getTime() - HOUR) / (365.25 * DAY);
      assert.ok(Math.abs(years - 10) < 0.01, `${spec.name}: ${years} years`);
    }
    assert.equal(cert(state, 'ca').commonName, 'demo-ca');
  });

  it('leaves: subject, SANs, usages, validity and the right CA, as plan.pki says', async () => {
    for (const spec of pki.leaves) {
      const c = cert(state, spec.name);
      assert.equal(c.commonName, spec.commonName, spec.name);
      assert.deepEqual(c.organizations, spec.organizations, spec.name);
      assert.deepEqual(c.dnsNames, spec.dnsNames, spec.name);
      assert.deepEqual(c.ipAddresses, spec.ipAddresses, spec.name);
      const eku = { client: ['clientAuth'], server: ['serverAuth'], both: ['serverAuth', 'clientAuth'] }[spec.usage];
      assert.deepEqual(c.extKeyUsages, eku, spec.name);
      assert.equal(c.isCA, false, spec.name);
      assert.ok(c.notBefore.getTime() <= Date.now());
      assert.ok(c.notAfter.getTime() >= t0 + 365 * DAY - HOUR - 1000 && c.notAfter.getTime() <= t1 + 365 * DAY, `${spec.name}: 365 days`);
      assert.equal(c.issuer, `CN=${pki.cas.find((a) => a.name === spec.ca)!.commonName}`);
      for (const ca of CAS) {
        assert.equal(await verifiedBy(secrets[`${spec.name}.crt`]!, state.read(`${ca}.crt`)!), ca === spec.ca, `${spec.name} signed by ${ca}?`);
      }
      assert.ok(await keyMatchesCert(secrets[`${spec.name}.key`]!, secrets[`${spec.name}.crt`]!), `${spec.name}.key`);
    }
  });

  it('the apiserver serves every name the cluster reaches it by', () => {
    const c = cert(state, 'apiserver');
    assert.deepEqual(c.dnsNames, ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', 'localhost', 'sm1']);
    assert.deepEqual(c.ipAddresses, ['127.0.0.1', '10.68.0.1', '192.168.232.206']);
    assert.deepEqual(c.extKeyUsages, ['serverAuth']);
    assert.equal(c.commonName, 'kube-apiserver');
  });

  it('identities: kubelets are system:node:<name> in system:nodes, admin is in system:masters', () => {
    const kubelet = cert(state, 'kubelet-sw1');
    assert.equal(kubelet.commonName, 'system:node:sw1');
    assert.deepEqual(kubelet.organizations, ['system:nodes']);
    assert.deepEqual(kubelet.extKeyUsages, ['clientAuth']);
    assert.equal(kubelet.subject, 'O=system:nodes, CN=system:node:sw1');
    const serving = cert(state, 'kubelet-serving-sw1');
    assert.deepEqual(serving.extKeyUsages, ['serverAuth']);
    assert.deepEqual(serving.ipAddresses, ['192.168.232.207']);
    const admin = cert(state, 'admin');
    assert.equal(admin.commonName, 'kubernetes-admin');
    assert.deepEqual(admin.organizations, ['system:masters']);
    const etcd = cert(state, 'etcd-server-sw1');
    assert.deepEqual(etcd.extKeyUsages, ['serverAuth', 'clientAuth']);
    assert.deepEqual(etcd.ipAddresses, ['127.0.0.1', '192.168.232.207']);
    assert.equal(etcd.issuer, 'CN=demo-etcd-ca');
    assert.equal(cert(state, 'front-proxy-client').issuer, 'CN=demo-front-proxy-ca');
    assert.equal(cert(state, 'apiserver-etcd-client').issuer, 'CN=demo-etcd-ca');
  });

  it('keys are PKCS#8 ECDSA P-256, serials 16 random positive bytes', () => {
    for (const name of [...CAS, ...pki.leaves.map((l) => l.name)]) {
      assert.match(state.read(`${name}.key`)!, /^-----BEGIN PRIVATE KEY-----\n/, name);
      assert.match(cert(state, name).serial, /^[4-7][0-9a-f]{31}$/, name);
    }
    const serials = new Set(pki.leaves.map((l) => cert(state, l.name).serial));
    assert.equal(serials.size, pki.leaves.length);
  });
});

describe('the state folder', () => {
  it('a second ensure reuses every secret', async () => {
    assert.deepEqual(await new StateDir(state.dir).ensure(plan, defaultIssuers()), secrets);
  });

  it('keeps every CA, also the keys no bundle carries; keys 0600, certificates 0644', () => {
    for (const ca of CAS) {
      assert.ok(state.read(`${ca}.key`), `${ca}.key`);
      assert.equal(mode(join(state.dir, `${ca}.key`)), 0o600, `${ca}.key`);
      assert.equal(mode(join(state.dir, `${ca}.crt`)), 0o644, `${ca}.crt`);
    }
    assert.ok(!plan.secrets.includes('etcd-ca.key') && !plan.secrets.includes('front-proxy-ca.key'), 'no bundle carries them');
    for (const l of pki.leaves) assert.equal(mode(join(state.dir, `${l.name}.key`)), 0o600, `${l.name}.key`);
  });

  it('writes the CA key even when only its certificate is asked for', async () => {
    const s = new StateDir(tmp());
    const out = await pkiIssuer.issue(plan, ['etcd-ca.crt'], {}, s);
    assert.deepEqual(Object.keys(out), ['etcd-ca.crt']);
    assert.equal(s.read('etcd-ca.crt'), out['etcd-ca.crt']);
    assert.ok(await keyMatchesCert(s.read('etcd-ca.key')!, out['etcd-ca.crt']!));
  });

  it('a lost certificate is issued again with its existing key; nothing else changes', async () => {
    const s = copyState(state);
    unlinkSync(join(s.dir, 'apiserver.crt'));
    const again = await s.ensure(plan, [makePkiIssuer(() => new Date(t0 + DAY))]);
    for (const name of plan.secrets) if (name !== 'apiserver.crt') assert.equal(again[name], secrets[name], name);
    assert.notEqual(again['apiserver.crt'], secrets['apiserver.crt']);
    assert.ok(await keyMatchesCert(secrets['apiserver.key']!, again['apiserver.crt']!));
    assert.ok(await verifiedBy(again['apiserver.crt']!, secrets['ca.crt']!));
  });

  it('a node that moves to another address gets new certificates with the same keys', async () => {
    const s = copyState(state);
    const config = loadFixture('valid/tutorial-secure.yaml');
    const moved = planCluster({ ...config, nodes: config.nodes.map((n) => (n.name === 'sm1' ? { ...n, address: '192.168.232.216' } : n)) });
    const again = await s.ensure(moved, [makePkiIssuer(() => new Date(t0 + DAY))]);
    assert.ok(describeCert(again['apiserver.crt']!).ipAddresses.includes('192.168.232.216'));
    assert.ok(describeCert(again['kubelet-serving-sm1.crt']!).ipAddresses.includes('192.168.232.216'));
    assert.equal(again['apiserver.key'], secrets['apiserver.key']);
    assert.equal(again['ca.crt'], secrets['ca.crt']);
    assert.equal(again['kubelet-serving-sw1.crt'], secrets['kubelet-serving-sw1.crt'], 'other nodes keep theirs');
  });

  it('an incomplete CA or a certificate without its key is an error, never silently replaced', async () => {
    const s = copyState(state);
    unlinkSync(join(s.dir, 'etcd-ca.key'));
    unlinkSync(join(s.dir, 'etcd-server-sw1.crt'));
    await assert.rejects(s.ensure(plan, defaultIssuers()), (e: unknown) => e instanceof ClusterError && /etcd-ca/.test(e.message) && e.hint !== undefined);
    assert.equal(s.read('etcd-ca.crt'), state.read('etcd-ca.crt'));

    const s2 = copyState(state);
    unlinkSync(join(s2.dir, 'admin.key'));
    await assert.rejects(s2.ensure(plan, defaultIssuers()), (e: unknown) => e instanceof ClusterError && /admin\.key/.test(e.message));

    const s3 = copyState(state);
    unlinkSync(join(s3.dir, 'front-proxy-ca.crt'));
    unlinkSync(join(s3.dir, 'front-proxy-ca.key'));
    await assert.rejects(s3.ensure(plan, defaultIssuers()), (e: unknown) => e instanceof ClusterError && /front-proxy-client\.crt/.test(e.message));
  });

  it('simple mode asks nothing of the PKI issuer', async () => {
    const simple = planCluster(loadFixture('valid/tutorial-simple.yaml'));
    assert.deepEqual(await pkiIssuer.issue(simple, simple.secrets, {}, new StateDir(tmp())), {});
  });
});

describe('certs check and renew', () => {
  it('check: all ok after issuing, all expired eleven years later', async () => {
    const rows = await checkCerts(state, plan);
    assert.deepEqual(rows.map((r) => r.name), [...CAS, ...pki.leaves.map((l) => l.name)]);
    for (const r of rows) assert.equal(r.status, 'ok', `${r.name}: ${r.detail}`);
    assert.equal(rows.find((r) => r.name === 'apiserver')!.issuer, 'demo-ca');
    assert.ok(rows.find((r) => r.name === 'apiserver')!.daysLeft >= 364);
    const later = new Date(t1 + 11 * 366 * DAY);
    for (const r of await checkCerts(state, plan, later)) assert.equal(r.status, 'expired', r.name);
    const soon = await checkCerts(state, plan, new Date(t1 + 350 * DAY));
    for (const r of soon) assert.equal(r.status, CAS.includes(r.name as CAName) ? 'ok' : 'expires soon', r.name);
  });

  it('check: missing files and a certificate from the wrong CA', async () => {
    const s = copyState(state);
    unlinkSync(join(s.dir, 'scheduler.crt'));
    unlinkSync(join(s.dir, 'etcd-ca.key'));
    const wrong = await issueLeaf(leaf('apiserver'), { cert: s.read('etcd-ca.crt')!, key: state.read('etcd-ca.key')! }, new Date(), s.read('apiserver.key'));
    s.write('apiserver.crt', wrong.cert);
    const rows = new Map((await checkCerts(s, plan)).map((r) => [r.name, r]));
    assert.equal(rows.get('scheduler')!.status, 'missing');
    assert.equal(rows.get('etcd-ca')!.status, 'missing');
    assert.match(rows.get('etcd-ca')!.detail!, /etcd-ca\.key/);
    assert.equal(rows.get('apiserver')!.status, 'bad chain');
    assert.equal(rows.get('kube-proxy')!.status, 'ok');
    const table = formatCertTable([...rows.values()]).split('\n');
    assert.match(table[0]!, /^CERTIFICATE\s+COMMON NAME\s+ISSUER\s+EXPIRES\s+DAYS\s+STATUS$/);
    assert.equal(table.length, rows.size + 1);
    const statusAt = table[0]!.indexOf('STATUS');
    for (const line of table.slice(1)) assert.match(line.slice(statusAt), /^(ok|expires soon|expired|missing|bad chain)/, line);
    assert.match(table.find((l) => l.startsWith('scheduler '))!, /\s-\s+-\s+-\s+-\s+missing/);
  });

  it('renew: new leaf certificates with the same keys; CAs untouched', async () => {
    const s = copyState(state);
    const before = new Map([...CAS, ...pki.leaves.map((l) => l.name)].flatMap((n) => [`${n}.crt`, `${n}.key`]).map((f) => [f, s.read(f)!]));
    const when = new Date(t1 + 2 * DAY);
    const renewed = await renewLeaves(s, plan, when);
    assert.deepEqual(renewed, pki.leaves.map((l) => `${l.name}.crt`));
    for (const ca of CAS) {
      assert.equal(s.read(`${ca}.crt`), before.get(`${ca}.crt`), `${ca}.crt`);
      assert.equal(s.read(`${ca}.key`), before.get(`${ca}.key`), `${ca}.key`);
    }
    for (const l of pki.leaves) {
      const old = describeCert(before.get(`${l.name}.crt`)!);
      const now = cert(s, l.name);
      assert.equal(s.read(`${l.name}.key`), before.get(`${l.name}.key`), `${l.name}.key kept`);
      assert.notEqual(now.serial, old.serial, l.name);
      assert.ok(now.notBefore > old.notBefore && now.notAfter > old.notAfter, l.name);
      assert.deepEqual({ ...now, serial: '', notBefore: 0, notAfter: 0 }, { ...old, serial: '', notBefore: 0, notAfter: 0 }, `${l.name}: same subject, names, usages`);
      assert.ok(await verifiedBy(s.read(`${l.name}.crt`)!, s.read(`${l.ca}.crt`)!), l.name);
      assert.ok(await keyMatchesCert(s.read(`${l.name}.key`)!, s.read(`${l.name}.crt`)!), l.name);
    }
    for (const r of await checkCerts(s, plan, when)) assert.equal(r.status, 'ok', r.name);
  });

  it('renew: a missing CA is a typed error and nothing is written', async () => {
    const s = copyState(state);
    unlinkSync(join(s.dir, 'front-proxy-ca.key'));
    const apiserver = s.read('apiserver.crt');
    await assert.rejects(renewLeaves(s, plan), (e: unknown) => e instanceof ClusterError && /front-proxy-ca\.key/.test(e.message) && e.hint !== undefined);
    assert.equal(s.read('apiserver.crt'), apiserver);
    const simple = planCluster(loadFixture('valid/tutorial-simple.yaml'));
    await assert.rejects(renewLeaves(s, simple), UsageError);
    await assert.rejects(checkCerts(s, simple), UsageError);
  });
});

interface Exchange {
  serverSawCN?: string;
  /** With rejectUnauthorized false, why the server would have refused the client. */
  serverAuthError?: string;
  serverError?: Error;
  clientAuthorized?: boolean;
  clientError?: Error;
}

/** One TLS connection to a fresh local server; reports what each side saw. */
async function exchange(serverOpts: tls.TlsOptions, clientOpts: tls.ConnectionOptions): Promise<Exchange> {
  const result: Exchange = {};
  const server = tls.createServer(serverOpts);
  const serverDone = new Promise<void>((resolve) => {
    server.on('secureConnection', (sock) => {
      const cn = sock.getPeerCertificate().subject?.CN;
      result.serverSawCN = Array.isArray(cn) ? cn.join(',') : cn;
      if (!sock.authorized) result.serverAuthError = String(sock.authorizationError);
      sock.end('hello');
      resolve();
    });
    server.on('tlsClientError', (e) => {
      result.serverError = e;
      resolve();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const clientDone = new Promise<void>((resolve) => {
    const sock = tls.connect({ host: '127.0.0.1', port, ...clientOpts }, () => {
      result.clientAuthorized = sock.authorized;
    });
    sock.on('data', () => {});
    sock.on('error', (e) => {
      result.clientError ??= e;
    });
    sock.on('close', () => resolve());
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('TLS exchange timed out')), 10_000)));
  try {
    await Promise.race([Promise.all([serverDone, clientDone]), timeout]);
  } finally {
    clearTimeout(timer);
    await new Promise((resolve) => server.close(resolve));
  }
  return result;
}

describe('the certificates work for TLS', () => {
  const apiserver = () => ({ key: secrets['apiserver.key'], cert: secrets['apiserver.crt'], ca: [secrets['ca.crt']!], requestCert: true, rejectUnauthorized: true });

  it('mutual TLS: the client trusts the apiserver by name, the server sees the admin', async () => {
    const r = await exchange(apiserver(), { servername: 'kubernetes.default.svc', ca: secrets['ca.crt'], key: secrets['admin.key'], cert: secrets['admin.crt'] });
    assert.equal(r.serverError, undefined);
    assert.equal(r.clientError, undefined);
    assert.equal(r.clientAuthorized, true);
    assert.equal(r.serverSawCN, 'kubernetes-admin');
    assert.equal(r.serverAuthError, undefined);
  });

  it('the IP SAN is checked too (no server name: the client matches 127.0.0.1)', async () => {
    const r = await exchange(apiserver(), { ca: secrets['ca.crt'], key: secrets['kubelet-sw2.key'], cert: secrets['kubelet-sw2.crt'] });
    assert.equal(r.clientError, undefined);
    assert.equal(r.serverSawCN, 'system:node:sw2');
  });

  it('a name the certificate does not carry is refused by the client', async () => {
    const r = await exchange(apiserver(), { servername: 'evil.example', ca: secrets['ca.crt'], key: secrets['admin.key'], cert: secrets['admin.crt'] });
    assert.equal((r.clientError as NodeJS.ErrnoException | undefined)?.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('a client certificate from another CA (front-proxy-client) is rejected', async () => {
    const r = await exchange(apiserver(), { servername: 'kubernetes', ca: secrets['ca.crt'], key: secrets['front-proxy-client.key'], cert: secrets['front-proxy-client.crt'] });
    assert.equal(r.serverSawCN, undefined);
    assert.ok(r.serverError, 'the server refused the handshake');
    // Node drops a refused client without saying why; a lenient server shows the reason.
    const lenient = await exchange({ ...apiserver(), rejectUnauthorized: false }, { servername: 'kubernetes', ca: secrets['ca.crt'], key: secrets['front-proxy-client.key'], cert: secrets['front-proxy-client.crt'] });
    assert.equal(lenient.serverSawCN, 'front-proxy-client');
    assert.match(lenient.serverAuthError ?? '', /^UNABLE_TO_(VERIFY_LEAF_SIGNATURE|GET_ISSUER_CERT)/, 'no trusted issuer');
  });

  it('a client-only certificate cannot serve', async () => {
    const r = await exchange({ key: secrets['admin.key'], cert: secrets['admin.crt'] }, { servername: 'localhost', ca: secrets['ca.crt'] });
    assert.ok(r.clientError, 'admin.crt has no serverAuth');
  });
});

describe('bundles carry only the secrets their node needs', () => {
  let rendered: ReturnType<typeof renderBundles> | undefined;
  const bundles = () => (rendered ??= renderBundles(plan, loadTemplates(), secrets));
  const holds = (node: string, secret: string) => bundles().get(node)!.some((f) => f.content.includes(secret.trim()));

  it('worker nodes get no CA key and no service-account key; etcd and front-proxy CA keys go nowhere', () => {
    const caKeys = { 'ca.key': state.read('ca.key')!, 'etcd-ca.key': state.read('etcd-ca.key')!, 'front-proxy-ca.key': state.read('front-proxy-ca.key')!, 'sa.key': secrets['sa.key']! };
    for (const node of ['sw1', 'sw2']) for (const [name, key] of Object.entries(caKeys)) assert.ok(!holds(node, key), `${node} holds ${name}`);
    for (const node of plan.nodes.map((n) => n.name)) {
      assert.ok(!holds(node, caKeys['etcd-ca.key']), `${node} holds etcd-ca.key`);
      assert.ok(!holds(node, caKeys['front-proxy-ca.key']), `${node} holds front-proxy-ca.key`);
    }
    assert.ok(holds('sm1', caKeys['ca.key']), 'the controller-manager signs with ca.key (the check can see a key)');
  });

  it('no node holds another node\'s kubelet or etcd member keys', () => {
    const nodes = plan.nodes.map((n) => n.name);
    for (const node of nodes) {
      assert.ok(holds(node, secrets[`kubelet-${node}.key`]!), `${node} holds its own kubelet key`);
      for (const other of nodes.filter((n) => n !== node)) {
        for (const k of [`kubelet-${other}.key`, `kubelet-serving-${other}.key`, `etcd-server-${other}.key`, `etcd-peer-${other}.key`]) {
          if (secrets[k] !== undefined) assert.ok(!holds(node, secrets[k]!), `${node} holds ${k}`);
        }
      }
    }
  });

  it('every key file, and every file holding a private key, is 0600', () => {
    const keys = Object.entries(secrets).filter(([n]) => n.endsWith('.key')).map(([, v]) => v.trim());
    for (const [node, files] of bundles()) {
      for (const f of files) {
        if (f.path.endsWith('.key')) assert.equal(f.mode, 0o600, `${node}/${f.path}`);
        if (f.content.includes('PRIVATE KEY') || keys.some((k) => f.content.includes(k))) assert.equal(f.mode, 0o600, `${node}/${f.path}`);
      }
    }
  });
});

describe('leaf certificates built without the library', () => {
  const now = new Date('2026-03-04T05:06:07.891Z');
  const specs: LeafSpec[] = [
    ...pki.leaves.filter((l, i, all) => all.findIndex((o) => o.usage === l.usage && (o.dnsNames.length > 0) === (l.dnsNames.length > 0)) === i),
    { name: 'odd', ca: 'ca', commonName: 'näme with spaces', organizations: ['system:masters', 'Ö'], usage: 'both', dnsNames: ['a.example', 'localhost'], ipAddresses: ['10.0.0.1', '127.0.0.1'] },
  ];
  for (const spec of specs) {
    it(`${spec.name}: the library's bytes, but for key, serial and signature`, async () => {
      const ca = await createCA({ name: 'ca', commonName: 'kubernetes' }, now);
      const ours = await issueLeaf(spec, ca, now);
      const theirs = await issueLeafWithLibrary(spec, ca, now, ours.key);
      // The library's certificate, with our serial and key: the to-be-signed parts must be equal.
      const raw = new X509Certificate(theirs.cert).raw;
      const tbsLen = raw[6]! * 256 + raw[7]!; // 30 82 LL LL 30 82 LL LL
      const tbs = raw.subarray(4, 8 + tbsLen);
      const spki = Buffer.from(new X509Certificate(ours.cert).publicKey.export({ type: 'spki', format: 'der' }));
      const serial = new X509Certificate(theirs.cert).serialNumber;
      assert.deepEqual(leafTbs(spec, caSigner(ca)!, spki, serial, now), Buffer.from(tbs));
      assert.ok(await verifiedBy(ours.cert, ca.cert));
      assert.ok(await keyMatchesCert(ours.key, ours.cert));
      const a = describeCert(ours.cert);
      const b = describeCert(theirs.cert);
      assert.deepEqual({ ...a, serial: '' }, { ...b, serial: '' });
      assert.match(ours.cert, /^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+\n-----END CERTIFICATE-----$/);
      assert.equal(ours.key.split('\n')[0], '-----BEGIN PRIVATE KEY-----');
      // with an existing key, the key stays
      const renewed = await issueLeaf(spec, ca, now, ours.key);
      assert.equal(renewed.key, ours.key);
      assert.ok(await keyMatchesCert(ours.key, renewed.cert));
    });
  }
});
