// Where the conformance suite comes from, as data: e2e.test and ginkgo, built through the
// same wrapper module as the components (so they share Go's build cache and version stamp).
// Separate from fetch/recipes.ts `groups()`: `k8s-img build` never builds the suite. Pure.
import type { ComponentVersions } from '../config/versions.js';
import { KUBE_TAGS, k8sStamp, kubernetesModule, type Group } from '../fetch/recipes.js';

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
