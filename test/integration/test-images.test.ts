// Issue 8: the e2e test images are built here with no registry, under the exact names
// e2e.test pulls, and do what the [Conformance] specs ask of them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GenericContainer, Network, Wait, type StartedNetwork, type StartedTestContainer } from 'testcontainers';
import { findRelease } from '../../src/config/versions.js';
import { testImages } from '../../src/conformance/test-images.js';
import { ConsoleReporter, silentReporter } from '../../src/pipeline/progress.js';
import { buildTestImages, type TestImagesResult } from '../../src/pipeline/test-images.js';
import { DockerEngine } from '../../src/runtime/docker.js';
import { TEST_LABELS, fixtureConfig } from './harness.js';

const config = fixtureConfig('tutorial-simple.yaml');
const table = testImages(findRelease(config.kubernetesVersion)!)!;
const docker = new DockerEngine();
const REG = 'registry.k8s.io/e2e-test-images';
const AGNHOST = `${REG}/agnhost:2.66.1`;
const started: StartedTestContainer[] = [];
let result: TestImagesResult;
let network: StartedNetwork;

before(async () => {
  result = await buildTestImages(config, docker, new ConsoleReporter(process.stderr));
  network = await new Network().start();
});

after(async () => {
  for (const c of started) await c.stop({ remove: true, removeVolumes: true }).catch(() => undefined);
  await docker.removeLabelled({ 'io.k8s-img.test': 'true' });
  await network?.stop().catch(() => undefined);
});

/** Runs `cmd` in a fresh container of `ref` to its end; returns what it printed (stdout and stderr). */
async function runOnce(ref: string, cmd: string[], opts: { user?: string; env?: Record<string, string>; entrypoint?: string[]; noNewPrivileges?: boolean } = {}): Promise<string> {
  let c = new GenericContainer(ref).withLabels(TEST_LABELS).withWaitStrategy(Wait.forOneShotStartup()).withStartupTimeout(60_000);
  if (opts.entrypoint) c = c.withEntrypoint(opts.entrypoint);
  if (cmd.length > 0) c = c.withCommand(cmd);
  if (opts.user) c = c.withUser(opts.user);
  if (opts.env) c = c.withEnvironment(opts.env);
  if (opts.noNewPrivileges) c = c.withSecurityOpt('no-new-privileges');
  const started = await c.start();
  // The engine copies a container's output to its log asynchronously: right after the exit
  // it can still be empty (seen on a loaded machine).
  for (let i = 0; ; i++) {
    const out = await docker.logs(started.getId());
    if (out !== '' || i === 10) return out;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Starts a long-running container of `ref` on the test network under `alias`. */
async function serve(ref: string, alias: string, cmd: string[] = []): Promise<StartedTestContainer> {
  let c = new GenericContainer(ref).withLabels(TEST_LABELS).withNetwork(network).withNetworkAliases(alias);
  if (cmd.length > 0) c = c.withCommand(cmd);
  const s = await c.start();
  started.push(s);
  return s;
}

/** An HTTP GET from an agnhost container on the test network (curl, as the specs' exec probes do). */
async function curlFrom(url: string): Promise<string> {
  let c = new GenericContainer(AGNHOST).withLabels(TEST_LABELS).withNetwork(network).withEntrypoint(['curl']);
  c = c.withCommand(['-sS', '--retry', '10', '--retry-connrefused', '--retry-delay', '1', url]).withWaitStrategy(Wait.forOneShotStartup());
  return docker.logs((await c.start()).getId());
}

describe('every table image is built under the exact name e2e.test pulls', () => {
  it('nothing failed', () => {
    assert.deepEqual(result.failed, []);
    assert.deepEqual(result.built.map((b) => b.ref).sort(), table.map((t) => t.ref).sort());
  });

  for (const t of table) {
    it(`${t.ref} carries the project's labels and says what it is built from`, async () => {
      const info = (await docker.imageInfo(t.ref))!;
      const name = t.ref.slice(t.ref.lastIndexOf('/') + 1).split(':')[0];
      assert.equal(info.labels['io.k8s-img.managed'], 'true');
      assert.equal(info.labels['io.k8s-img.component'], `e2e-${name}`);
      assert.equal(info.labels['org.opencontainers.image.revision'], t.builtFrom);
      assert.equal(info.labels['org.opencontainers.image.source'], t.source);
    });
  }

  it('tags of the same program are distinct images (the runtime reports the first tag of an image)', async () => {
    const ids = await Promise.all([`${REG}/agnhost:2.55`, AGNHOST, `${REG}/nginx:1.27.0-2`, `${REG}/nginx:1.28.0-2`].map(async (r) => (await docker.imageInfo(r))!.id));
    assert.equal(new Set(ids).size, 4);
  });

  it('a second build rebuilds nothing', async () => {
    const again = await buildTestImages(config, docker, silentReporter);
    assert.deepEqual(again.built.filter((b) => b.status !== 'up to date').map((b) => b.ref), []);
  });

  it('an image with no recipe is reported with its reason, the rest still builds', async () => {
    const r = await buildTestImages(config, docker, silentReporter, [`${REG}/perl:5.26`, 'example.invalid/none:1', `${REG}/nonroot:1.5`]);
    assert.deepEqual(r.built.map((b) => b.ref), [`${REG}/nonroot:1.5`]);
    assert.deepEqual(r.failed, [
      { ref: `${REG}/perl:5.26`, reason: 'no spec of this suite uses it' },
      { ref: 'example.invalid/none:1', reason: 'no recipe in src/conformance/test-images.ts' },
    ]);
  });
});

describe('agnhost', () => {
  it('runs its subcommands (netexec, serve-hostname, dns, webhook, porter, test-webserver) and reports 2.66.1', async () => {
    const help = await runOnce(AGNHOST, ['--help']);
    for (const sub of ['netexec', 'serve-hostname', 'dns-suffix', 'webhook', 'porter', 'test-webserver', 'pause', 'entrypoint-tester']) assert.match(help, new RegExp(`\\b${sub}\\b`), help);
    assert.match(await runOnce(AGNHOST, ['--version']), /2\.66\.1/);
  });

  it('netexec answers /hostname on :8080, as the Services specs ask it', async () => {
    await serve(AGNHOST, 'netexec', ['netexec', '--http-port=8080', '--udp-port=8081']);
    assert.equal((await curlFrom('http://netexec:8080/hostname')).trim().length > 0, true);
    assert.match(await curlFrom('http://netexec:8080/echo?msg=conformance'), /conformance/);
  });

  it('carries the tools the specs exec: dig, curl, nc, ss, iperf, socat, ipcs, getent, bash, /coredns', async () => {
    const out = await runOnce(AGNHOST, [
      '-c',
      'dig -v 2>&1; curl --version | head -1; nc -h 2>&1 | head -1; ss -V; iperf -v 2>&1; /usr/local/bin/iperf -v 2>&1; socat -V | head -2; ipcs -V; getent hosts localhost; bash --version | head -1; /coredns -version',
    ], { entrypoint: ['sh'] });
    for (const re of [/DiG 9\./, /^curl /m, /OpenBSD netcat/, /iproute2/, /iperf version 2/, /socat version/, /util-linux/, /localhost/, /GNU bash/, /CoreDNS-/]) assert.match(out, re, out);
  });

  it('is Alpine-like where the specs can tell: busybox sh, agnhost-2, porter\'s certificate, /uploads, user 1000 in group 50000', async () => {
    const out = await runOnce(AGNHOST, ['-c', 'readlink -f /bin/sh; ls -l /agnhost-2; head -1 /localhost.crt; test -d /uploads && echo uploads; id user-defined-in-image; wget --help 2>&1 | head -1'], { entrypoint: ['sh'] });
    assert.match(out, /\/usr\/bin\/busybox/, out);
    assert.match(out, /agnhost-2 -> agnhost/, out);
    assert.match(out, /BEGIN CERTIFICATE/, out);
    assert.match(out, /^uploads$/m, out);
    assert.match(out, /uid=1000\(user-defined-in-image\).*50000\(group-defined-in-image\)/, out);
    assert.match(out, /BusyBox v1\.37\.0/, out);
    const config = (await docker.api.getImage(AGNHOST).inspect()).Config;
    assert.deepEqual([config.Entrypoint, config.Cmd], [['/agnhost'], ['pause']]);
    assert.deepEqual(Object.keys(config.ExposedPorts ?? {}).sort(), ['5000/tcp', '80/tcp', '8080/tcp', '8081/tcp', '9376/tcp']);
  });

  it('getent hosts answers with musl (the "musl" DNS probes), other databases with glibc', async () => {
    const out = await runOnce(AGNHOST, ['-c', 'command -v getent; getent hosts localhost; getent hosts 127.0.0.1; getent passwd user-defined-in-image; getent hosts no-such-name.invalid; echo "rc=$?"'], { entrypoint: ['sh'] });
    assert.match(out, /^\/usr\/local\/bin\/getent$/m, out);
    assert.match(out, /^127\.0\.0\.1\s+localhost$/m, out);
    assert.match(out, /^user-defined-in-image:x:1000:1000:/m, out);
    assert.match(out, /^rc=2$/m, out);
  });
});

describe('busybox', () => {
  it('sh keeps environment variables whose names are not shell identifiers (env from ConfigMap/Secret)', async () => {
    const env = { 'data-1': 'value-1', 'p-data-1': 'value-1', '1-data-1': 'value-1', '$_-data-1': 'value-1', '#@!data-1': 'value-1', ABC_data: 'value-1' };
    const out = await runOnce(`${REG}/busybox:1.37.0-2`, ['sh', '-c', 'env'], { env });
    for (const k of Object.keys(env)) assert.match(out, new RegExp(`^${k.replace(/[$#@!]/g, '\\$&')}=value-1$`, 'm'), out);
  });

  it('is busybox 1.37.0 with its applets in /bin and a user table', async () => {
    const out = await runOnce(`${REG}/busybox:1.37.0-2`, ['sh', '-c', 'busybox | head -1; ls /bin | wc -l; id nobody; echo done']);
    assert.match(out, /BusyBox v1\.37\.0/);
    assert.ok(Number(/^(\d+)$/m.exec(out)?.[1]) > 300, out);
    assert.match(out, /uid=65534\(nobody\)/);
  });
});

describe('the other images', () => {
  it('nginx serves its welcome page on :80 (both tags)', async () => {
    for (const [tag, alias] of [['1.27.0-2', 'nginx-old'], ['1.28.0-2', 'nginx-new']] as const) {
      await serve(`${REG}/nginx:${tag}`, alias);
      assert.match(await curlFrom(`http://${alias}/`), /Welcome to nginx!/);
    }
  });

  it('kitten and nautilus serve their data.json with test-webserver; kitten\'s os-release names Alpine Linux (ImageVolume)', async () => {
    await serve(`${REG}/kitten:1.8`, 'kitten');
    assert.match(await curlFrom('http://kitten/data.json'), /kitten\.jpg/);
    await serve(`${REG}/nautilus:1.8`, 'nautilus');
    assert.match(await curlFrom('http://nautilus/data.json'), /nautilus\.jpg/);
    assert.match(await runOnce(`${REG}/kitten:1.8`, ['/etc/os-release'], { entrypoint: ['cat'] }), /Alpine Linux/);
  });

  it('nonroot runs as 1234', async () => {
    assert.equal((await runOnce(`${REG}/nonroot:1.5`, ['id', '-u'])).trim(), '1234');
  });

  it('nonewprivs: setuid root unless no-new-privileges', async () => {
    assert.match(await runOnce(`${REG}/nonewprivs:1.4`, [], { user: '1000' }), /Effective uid: 0/);
    assert.match(await runOnce(`${REG}/nonewprivs:1.4`, [], { user: '1000', noNewPrivileges: true }), /Effective uid: 1000/);
  });

  it('sample-apiserver starts far enough to print its flags', async () => {
    const out = await runOnce(`${REG}/sample-apiserver:1.29.2`, ['--help']);
    assert.match(out, /--etcd-servers/);
    assert.match(out, /--tls-cert-file/);
  });

  it('etcd 3.7.0 prints its version and serves with the arguments the Aggregator spec gives it', async () => {
    assert.match(await runOnce('registry.k8s.io/etcd:3.7.0-0', ['--version'], { entrypoint: ['/usr/local/bin/etcd'] }), /etcd Version: 3\.7\.0\b/);
    const url = 'http://127.0.0.1:2379';
    const etcd = await new GenericContainer('registry.k8s.io/etcd:3.7.0-0')
      .withCommand(['/usr/local/bin/etcd', '--listen-client-urls', url, '--advertise-client-urls', url])
      .withLabels(TEST_LABELS)
      .withWaitStrategy(Wait.forLogMessage(/ready to serve client requests/))
      .start();
    started.push(etcd);
    const health = await etcd.exec(['/usr/local/bin/etcdctl', `--endpoints=${url}`, 'endpoint', 'health']);
    assert.equal(health.exitCode, 0, health.output);
  });

  it('glibc-dns-testing has dig, getent and /coredns', async () => {
    const out = await runOnce(`${REG}/glibc-dns-testing:2.1.1`, ['sh', '-c', 'dig -v 2>&1; getent hosts localhost; /coredns -version; ldd --version | head -1']);
    for (const re of [/DiG 9\./, /localhost/, /CoreDNS-/, /GLIBC|GNU libc/]) assert.match(out, re, out);
  });

  it('pause is the cluster\'s pause build', async () => {
    assert.match(await runOnce('registry.k8s.io/pause:3.10.2', ['-v']), /pause\.c v3\.10\.2/);
  });
});
