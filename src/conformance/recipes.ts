// Where the conformance suite comes from, as data: e2e.test and ginkgo, built through the
// same wrapper module as the components (so they share Go's build cache and version stamp).
// Separate from fetch/recipes.ts `groups()`: `k8s-img build` never builds the suite. Pure.
import type { ComponentVersions } from '../config/versions.js';
import { KUBE_TAGS, groups, k8sStamp, kubernetesModule, type Group } from '../fetch/recipes.js';

export type SuiteBinary = 'e2e.test' | 'ginkgo';
export type SuiteGroupId = 'e2e' | 'ginkgo';

const K8S = 'https://github.com/kubernetes/kubernetes';

/**
 * e2e.test (`go test -c k8s.io/kubernetes/test/e2e`, stamped: unstamped it asks for
 * pod-security fixtures of "v0.0") and the ginkgo CLI that runs it in parallel. ginkgo's
 * version is the one Kubernetes' module graph selects, so its group carries the Kubernetes version.
 */
export function conformanceGroups(v: ComponentVersions): Group<SuiteBinary, SuiteGroupId>[] {
  const k = v.kubernetes;
  return [
    {
      id: 'e2e',
      version: k,
      upstream: `${K8S}/tree/v${k}/test/e2e`,
      binaries: ['e2e.test'],
      go: { ...kubernetesModule(k), packages: [['k8s.io/kubernetes/test/e2e', 'e2e.test']], test: true, tags: KUBE_TAGS, ldflags: k8sStamp(k) },
    },
    {
      id: 'ginkgo',
      version: k,
      upstream: 'https://github.com/onsi/ginkgo',
      binaries: ['ginkgo'],
      go: { ...kubernetesModule(k), packages: [['github.com/onsi/ginkgo/v2/ginkgo', 'ginkgo']], ldflags: [] },
    },
  ];
}

/** The programs the test images carry (test-images.ts places them). */
export type TestProgram = 'agnhost' | 'nnp' | 'sample-apiserver' | 'etcd' | 'etcdctl' | 'etcdutl' | 'busybox' | 'getent';
export type TestProgramGroupId = 'e2e-test-images' | 'sample-apiserver' | 'e2e-etcd' | 'busybox' | 'getent-musl';

/**
 * Versions the image tags of the v1.37 suite name: sample-apiserver:1.29.2 is
 * k8s.io/sample-apiserver v0.29.2, etcd:3.7.0-0 is etcd v3.7.0, busybox:1.37.0-2 is busybox 1.37.0.
 */
const TAGGED = { agnhost: '2.66.1', sampleApiserver: 'v0.29.2', etcd: '3.7.0', busybox: '1.37.0' };

export function testImagePrograms(v: ComponentVersions, toolVersion: string): Group<TestProgram, TestProgramGroupId>[] {
  const k = v.kubernetes;
  // The cluster's etcd recipe at the version the e2e image names; its binaries are TestPrograms too.
  const { release: _mirrorArchive, ...etcd } = groups({ ...v, etcd: TAGGED.etcd }, '').find((g) => g.id === 'etcd')! as Group<'etcd' | 'etcdctl' | 'etcdutl'>;
  return [
    {
      // agnhost and nnp of the suite's own tree (agnhost's VERSION file there is the tag e2e.test uses).
      id: 'e2e-test-images',
      version: k,
      upstream: `${K8S}/tree/v${k}/test/images`,
      binaries: ['agnhost', 'nnp'],
      go: {
        ...kubernetesModule(k),
        packages: [
          ['k8s.io/kubernetes/test/images/agnhost', 'agnhost'],
          ['k8s.io/kubernetes/test/images/nonewprivs', 'nnp'],
        ],
        // The components' tags keep Go's build cache shared; agnhost's Makefile stamps main.Version.
        tags: KUBE_TAGS,
        ldflags: [`-X main.Version=${TAGGED.agnhost}`],
      },
    },
    {
      id: 'sample-apiserver',
      version: TAGGED.sampleApiserver.slice(1),
      upstream: 'https://github.com/kubernetes/sample-apiserver',
      binaries: ['sample-apiserver'],
      go: {
        kind: 'go',
        module: 'k8s.io/sample-apiserver',
        version: TAGGED.sampleApiserver,
        // Its go.mod pins k8s.io/* by replace (to the same version): copy those.
        localReplace: () => undefined,
        packages: [['k8s.io/sample-apiserver', 'sample-apiserver']],
        // Upstream's Makefile builds it unstamped.
        ldflags: [],
      },
    },
    // Own id: its own work folder and cache entry, apart from the cluster's etcd.
    { ...etcd, id: 'e2e-etcd' },
    {
      id: 'busybox',
      version: TAGGED.busybox,
      upstream: 'https://busybox.net',
      binaries: ['busybox'],
      go: {
        kind: 'kconfig',
        tarball: { pool: 'pool/main/b/busybox/busybox_1.37.0.orig.tar.bz2', sha256: '3311dff32e746499f4df0d5df04d7eb396382d7e108bb9250e7b519b837043a4' },
        defconfig: 'defconfig',
        // Static, so it runs from scratch; tc's CBQ code no longer builds against current kernel headers.
        config: { STATIC: true, TC: false },
        output: ['busybox', 'busybox'],
      },
    },
    {
      // Ours: `getent hosts` answered by musl's resolver, as on upstream's Alpine agnhost.
      id: 'getent-musl',
      version: toolVersion,
      upstream: 'https://github.com/k8s-img/k8s-img/tree/main/images/e2e',
      binaries: ['getent'],
      go: { kind: 'c', source: { packageFile: 'images/e2e/getent.c' }, output: 'getent', defines: {}, cc: 'musl-gcc' },
    },
  ];
}
