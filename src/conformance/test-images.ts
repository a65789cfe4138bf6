// The images the [Conformance] specs of e2e.test v1.37 run, built here from source or Debian
// packages: one entry per name e2e.test uses (`e2e.test --list-images`, test/utils/image/manifest.go).
// Each mirrors what upstream's test/images/<name>/Dockerfile puts in the image; `changes` says
// where ours differs and why. Pure data; pipeline/test-images.ts builds it.
import type { ComponentVersions } from '../config/versions.js';
import type { RootfsSpec } from '../plan/bases.js';
import type { TestProgram } from './recipes.js';

/** Debian root filesystems (mmdebstrap, like the tools base) in place of upstream's Alpine/Debian bases. */
export type TestRootfsId = 'e2e-agnhost' | 'e2e-minbase' | 'e2e-nginx' | 'e2e-dnsutils';
export const TEST_ROOTFS: Record<TestRootfsId, RootfsSpec> = {
  // Alpine + bind-tools curl netcat-openbsd iproute2 iperf bash util-linux-misc socat upstream.
  'e2e-agnhost': {
    id: 'e2e-agnhost',
    suite: 'trixie',
    packages: ['bind9-dnsutils', 'curl', 'netcat-openbsd', 'iproute2', 'iperf', 'bash', 'util-linux', 'socat', 'ca-certificates', 'passwd'],
    purpose: 'Debian userland of the e2e agnhost image (dig, curl, nc, ss, iperf, socat, ipcs)',
  },
  'e2e-minbase': { id: 'e2e-minbase', suite: 'trixie', packages: [], purpose: 'minimal Debian for the e2e nonroot, nonewprivs and sample-apiserver images' },
  'e2e-nginx': { id: 'e2e-nginx', suite: 'trixie', packages: ['nginx'], purpose: 'Debian nginx for the e2e nginx images' },
  'e2e-dnsutils': { id: 'e2e-dnsutils', suite: 'trixie', packages: ['bind9-dnsutils'], purpose: 'Debian with dig, for the e2e glibc-dns-testing image' },
};

/** One entry of an image's filesystem. */
export type TestLayout =
  | { program: TestProgram; to: string }
  /** A binary of the cluster's own build (the CoreDNS and pause the cluster runs). */
  | { component: 'coredns' | 'pause'; to: string }
  /** A file of the k8s.io/kubernetes module the suite is built from. */
  | { kubernetesFile: string; to: string }
  /** One of our files, images/e2e/<file>. */
  | { file: string; to: string }
  | { link: string; to: string }
  | { dir: string; mode: number };

export type TestImageBase =
  | 'scratch'
  | { rootfs: TestRootfsId }
  /** Another image of this table (built first). */
  | { image: string };

export interface TestImage {
  /** Exactly the name e2e.test pulls. */
  ref: string;
  /** What it is built from, for the OCI revision label and reports. */
  builtFrom: string;
  /** Upstream's Dockerfile (OCI source label). */
  source: string;
  description: string;
  /** Which [Conformance] specs need it: why it is here. */
  specs: string;
  /** Where ours differs from upstream's image, and why. */
  changes?: string;
  base: TestImageBase;
  layout: TestLayout[];
  /** Build steps (exec form: the scratch-based images have no shell). */
  run?: string[][];
  user?: string;
  workdir?: string;
  entrypoint?: string[];
  cmd?: string[];
  expose?: string[];
  stopSignal?: string;
}

/** The suite whose images this table holds (other versions name other tags). */
export const TEST_IMAGES_SUITE = '1.37';

const REG = 'registry.k8s.io/e2e-test-images';
const tree = (k: string, dir: string) => `https://github.com/kubernetes/kubernetes/tree/v${k}/test/images/${dir}`;
/** Alpine (and Debian) images carry PATH in their config; an imported root filesystem does not. */
export const TEST_IMAGE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** busybox as /bin/sh and for every applet Debian has no program of its own for, as on Alpine. */
const busyboxUserland: { layout: TestLayout[]; run: string[][] } = {
  layout: [{ program: 'busybox', to: '/usr/bin/busybox' }, { file: 'busybox-applets', to: '/usr/local/sbin/k8s-img-busybox-applets' }],
  run: [['/usr/bin/busybox', 'sh', '/usr/local/sbin/k8s-img-busybox-applets']],
};

function agnhost(k: string, tag: string, note: string): TestImage {
  return {
    ref: `${REG}/agnhost:${tag}`,
    builtFrom: `k8s.io/kubernetes v${k} test/images/agnhost (agnhost 2.66.1)${note}`,
    source: tree(k, 'agnhost'),
    description: 'agnhost: the e2e test server with many subcommands (netexec, serve-hostname, webhook, porter, ...)',
    specs: 'most Services, networking, DNS, probes, webhooks, kubectl, apps and node specs',
    changes:
      'Debian trixie instead of Alpine: dig, curl, nc, ss, iperf, socat, ipcs from Debian; busybox 1.37.0 (from source) is /bin/sh and every applet Debian lacks, as on Alpine. ' +
      'The "musl" DNS probes of network/dns.go run dig (its own resolver, whatever the libc) and getent: ours answers hosts/ahosts with musl (images/e2e/getent.c, static), other databases with glibc\'s. ' +
      '/coredns is the cluster\'s CoreDNS build instead of the 1.6.2 release; /var/registry (the fake-registry-server content, pulled from registry.k8s.io by upstream) is left out: no [Conformance] spec runs fake-registry-server',
    base: { rootfs: 'e2e-agnhost' },
    layout: [
      { program: 'agnhost', to: '/agnhost' },
      { link: 'agnhost', to: '/agnhost-2' },
      { component: 'coredns', to: '/coredns' },
      { kubernetesFile: 'test/images/agnhost/porter/localhost.crt', to: '/localhost.crt' },
      { kubernetesFile: 'test/images/agnhost/porter/localhost.key', to: '/localhost.key' },
      { dir: '/uploads', mode: 0o755 },
      { link: '/usr/bin/iperf', to: '/usr/local/bin/iperf' },
      { program: 'getent', to: '/usr/local/bin/getent' },
      ...busyboxUserland.layout,
    ],
    run: [
      ...busyboxUserland.run,
      // The SupplementalGroups spec's user and group defined in the image.
      ['useradd', '--uid', '1000', '--create-home', 'user-defined-in-image'],
      ['groupadd', '--gid', '50000', 'group-defined-in-image'],
      ['usermod', '--append', '--groups', 'group-defined-in-image', 'user-defined-in-image'],
    ],
    entrypoint: ['/agnhost'],
    cmd: ['pause'],
    expose: ['80', '8080', '8081', '9376', '5000'],
  };
}

function agnhostWebserver(k: string, name: 'kitten' | 'nautilus', specs: string, extra: Pick<TestImage, 'changes' | 'run'> = {}): TestImage {
  return {
    ref: `${REG}/${name}:1.8`,
    builtFrom: `agnhost 2.66.1 above + k8s.io/kubernetes v${k} test/images/${name}/html`,
    source: tree(k, name),
    description: `agnhost test-webserver serving ${name}.jpg and data.json`,
    specs,
    changes: `on our agnhost 2.66.1 (upstream 1.8 was built on an older agnhost)${extra.changes ?? ''}`,
    base: { image: `${REG}/agnhost:2.66.1` },
    layout: [
      { kubernetesFile: `test/images/${name}/html/${name}.jpg`, to: `/${name}.jpg` },
      { kubernetesFile: `test/images/${name}/html/data.json`, to: '/data.json' },
    ],
    ...(extra.run ? { run: extra.run } : {}),
    cmd: ['test-webserver'],
  };
}

function nginx(k: string, tag: string, specs: string): TestImage {
  return {
    ref: `${REG}/nginx:${tag}`,
    builtFrom: 'Debian trixie nginx',
    source: tree(k, tag.startsWith('1.27') ? 'nginx' : 'nginx-new'),
    description: 'nginx serving /usr/share/nginx/html on :80',
    specs,
    changes:
      `Debian's nginx (1.26 in trixie) instead of nginx:${tag.slice(0, 4)}-alpine: same port, document root, log links, stop signal and command; ` +
      'no /docker-entrypoint.sh (its templates and IPv6 listen edit are not used by the specs; our config listens on [::]:80 too)',
    base: { rootfs: 'e2e-nginx' },
    layout: [
      { file: 'nginx-default.conf', to: '/etc/nginx/conf.d/default.conf' },
      { link: '/dev/stdout', to: '/var/log/nginx/access.log' },
      { link: '/dev/stderr', to: '/var/log/nginx/error.log' },
    ],
    // Debian's own site would also claim :80.
    run: [['rm', '-f', '/etc/nginx/sites-enabled/default']],
    cmd: ['nginx', '-g', 'daemon off;'],
    expose: ['80'],
    stopSignal: 'SIGQUIT',
  };
}

function busybox(k: string, tag: string, specs: string): TestImage {
  return {
    ref: `${REG}/busybox:${tag}`,
    builtFrom: 'busybox 1.37.0 from its release tarball (defconfig, static)',
    source: tree(k, 'busybox'),
    description: 'busybox: sh and the usual applets, nothing else',
    specs,
    changes:
      "busybox 1.37.0 built here rather than Debian's: Debian patches ash to drop environment variables whose names are not shell identifiers " +
      '(revert-9c143ce52…patch undoes upstream\'s "ash: retain envvars with bad names in initial environment"); the env-from-ConfigMap/Secret specs need them. ' +
      'Static glibc like docker-library\'s glibc variant; tc left out (its CBQ code does not build against current kernel headers)',
    base: 'scratch',
    layout: [
      { program: 'busybox', to: '/bin/busybox' },
      { file: 'busybox-passwd', to: '/etc/passwd' },
      { file: 'busybox-group', to: '/etc/group' },
      { dir: '/root', mode: 0o700 },
      { dir: '/tmp', mode: 0o1777 },
      { dir: '/home', mode: 0o755 },
      { dir: '/var/www', mode: 0o755 },
      { dir: '/var/spool/mail', mode: 0o755 },
    ],
    // Hard links for every applet in /bin, as upstream's image has them.
    run: [['/bin/busybox', '--install', '/bin']],
    cmd: ['sh'],
  };
}

/** The table for the suite of `v.kubernetes` (undefined for a suite this table does not describe). */
export function testImages(v: ComponentVersions): TestImage[] | undefined {
  const k = v.kubernetes;
  if (!k.startsWith(`${TEST_IMAGES_SUITE}.`)) return undefined;
  return [
    agnhost(k, '2.66.1', ''),
    agnhost(
      k,
      '2.55',
      ' serving as 2.55: no release of k8s.io/kubernetes carries agnhost 2.55 (v1.33.6 has 2.53, v1.34.0 has 2.56); a distinct image (own labels) so the runtime never reports one tag for the other',
    ),
    agnhostWebserver(k, 'kitten', 'ImageVolume (the image mounted as a volume)', {
      changes:
        '. The ImageVolume spec reads the image\'s /etc/os-release and expects "Alpine Linux" (upstream\'s base): ' +
        "ours keeps Debian's os-release unchanged and adds a comment line (os-release allows them) saying what it stands in for",
      run: [['sh', '-c', 'echo "# k8s-img: a Debian rebuild standing in for upstream\'s kitten image, which is based on Alpine Linux" >>/usr/lib/os-release']],
    }),
    agnhostWebserver(k, 'nautilus', 'Kubectl Update Demo: create and scale a replication controller'),
    busybox(k, '1.37.0-2', 'env from ConfigMap/Secret (4 specs), EmptyDir, projected/downward API volumes, init containers, lifecycle, jobs, cronjobs and many more'),
    nginx(k, '1.27.0-2', 'garbage collector, EndpointSlice, Endpoints, PodTemplates, Pods, pre-stop, ReplicationController, kubectl'),
    nginx(k, '1.28.0-2', 'none today (server-side apply specs outside [Conformance]); built because it costs a tag of the same image'),
    {
      ref: `${REG}/glibc-dns-testing:2.1.1`,
      builtFrom: 'Debian trixie bind9-dnsutils + the cluster\'s CoreDNS',
      source: tree(k, 'glibc-dns-testing'),
      description: 'dig and getent on glibc, the other half of the DNS probes',
      specs: 'DNS: for the cluster, /etc/hosts, services, pods Hostname/Subdomain, ExternalName, partial names',
      changes: "trixie instead of bookworm-slim; /coredns is the cluster's CoreDNS instead of the 1.5.0 release",
      base: { rootfs: 'e2e-dnsutils' },
      layout: [{ component: 'coredns', to: '/coredns' }],
      cmd: ['bash'],
    },
    {
      ref: `${REG}/nonroot:1.5`,
      builtFrom: 'Debian trixie minbase',
      source: tree(k, 'nonroot'),
      description: 'a Debian userland whose default user is 1234',
      specs: 'Security Context: runAsNonRoot with a non-root image user',
      changes: "trixie minbase instead of Kubernetes' debian-base (bookworm)",
      base: { rootfs: 'e2e-minbase' },
      layout: [],
      user: '1234',
      cmd: ['/bin/sh'],
    },
    {
      ref: `${REG}/nonewprivs:1.4`,
      builtFrom: `k8s.io/kubernetes v${k} test/images/nonewprivs (nnp)`,
      source: tree(k, 'nonewprivs'),
      description: 'a setuid-root program printing its effective uid',
      specs: 'Security Context: AllowPrivilegeEscalation false/true/unset',
      changes: 'Debian trixie minbase instead of Alpine',
      base: { rootfs: 'e2e-minbase' },
      layout: [{ program: 'nnp', to: '/usr/local/bin/nnp' }],
      run: [['chmod', '+s', '/usr/local/bin/nnp']],
      cmd: ['nnp'],
    },
    {
      ref: `${REG}/sample-apiserver:1.29.2`,
      builtFrom: 'k8s.io/sample-apiserver v0.29.2',
      source: tree(k, 'sample-apiserver'),
      description: 'the sample aggregated API server (wardle.example.com)',
      specs: 'Aggregator: should be able to support the 1.17 Sample API Server using the current Aggregator',
      changes: 'Debian trixie minbase instead of Alpine',
      base: { rootfs: 'e2e-minbase' },
      layout: [{ program: 'sample-apiserver', to: '/sample-apiserver' }],
      entrypoint: ['/sample-apiserver'],
    },
    {
      ref: 'registry.k8s.io/etcd:3.7.0-0',
      builtFrom: 'go.etcd.io/etcd v3.7.0 (etcd, etcdctl, etcdutl)',
      source: 'https://github.com/etcd-io/etcd/tree/v3.7.0',
      description: 'etcd with etcdctl and etcdutl in /usr/local/bin',
      specs: 'Aggregator (the sample API server\'s etcd)',
      changes: "from scratch with a user table and /tmp instead of distroless; no migrate/migrate-if-needed.sh (Kubernetes' etcd upgrade helpers, not used by the spec)",
      base: 'scratch',
      layout: [
        ...(['etcd', 'etcdctl', 'etcdutl'] as const).map((p) => ({ program: p, to: `/usr/local/bin/${p}` })),
        { file: 'scratch-passwd', to: '/etc/passwd' },
        { file: 'scratch-group', to: '/etc/group' },
        { dir: '/tmp', mode: 0o1777 },
      ],
      workdir: '/',
      expose: ['2379', '2380', '4001', '7001'],
    },
    {
      ref: `registry.k8s.io/pause:${v.pause}`,
      builtFrom: `the cluster's pause ${v.pause} (build/pause/linux/pause.c of k8s.io/kubernetes v${k})`,
      source: `https://github.com/kubernetes/kubernetes/tree/v${k}/build/pause`,
      description: 'the pause container',
      specs: 'Pods, ReplicaSets, Deployments, scheduling, preemption, kubectl and others that only need a container to exist',
      changes: "the cluster's pause binary in an image of its own (the same shape as the cluster's pause image), so e2e labels never land on k8s-img/pause",
      base: 'scratch',
      layout: [{ component: 'pause', to: '/pause' }],
      user: '65535',
      entrypoint: ['/pause'],
    },
  ];
}
