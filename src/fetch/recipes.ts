// Where every binary comes from, as data: for `go`, a wrapper module and its
// build; for `release`, the upstream archive and its checksum file. Pure.
import type { ComponentVersions } from '../config/versions.js';
import { CIS_TARGETS, GOJQ, KUBE_BENCH } from '../plan/cis.js';
import type { BinaryName } from '../plan/images.js';

export type GroupId = 'kubernetes' | 'etcd' | 'containerd' | 'runc' | 'registry' | 'calico' | 'cni-plugins' | 'coredns' | 'pause' | 'probe' | 'workload' | 'api-lb' | 'kube-bench' | 'gojq';


/**
 * A Go build through a wrapper module (dependencies' replace directives are ignored, so we copy them).
 * B names the artifacts: the cluster's BinaryName here, the conformance suite's in src/conformance/.
 */
export interface GoRecipe<B extends string = BinaryName> {
  kind: 'go';
  module: string;
  version: string;
  /** The module zip's h1: hash, when pinned here as well as by the checksum database. */
  sum?: string;
  /** Other modules to require at the same time (etcd's etcdctl and etcdutl). */
  alsoRequire?: [string, string][];
  /** Copy the upstream go.mod's replace block; local-path targets map through this. */
  localReplace?: (path: string, module: string) => string | undefined;
  /** Copy the upstream `godebug` line (it is not inherited by dependents). */
  copyGodebug?: boolean;
  /** Import path → binary name. */
  packages: [string, B][];
  /** The packages are test binaries: `go test -c -o <out> <pkg>`, one package at a time. */
  test?: boolean;
  tags?: string[];
  ldflags: string[];
  /** cgo on (runc's nsenter is C): linked statically, so the binary runs on any userland. */
  cgo?: boolean;
  /** Files of the upstream module to keep beside the binaries (module path → artifact). */
  copyFiles?: [string, B][];
}

/** A C program compiled statically with gcc. */
export interface CRecipe<B extends string = BinaryName> {
  kind: 'c';
  /** Where the source is: inside a Go module's zip (pause) or in this package (probe). */
  source: { module: string; version: string; file: string } | { packageFile: string };
  output: B;
  defines: Record<string, string>;
  libs?: string[];
  /** The C compiler (gcc unless said: musl-gcc links against musl instead of glibc). */
  cc?: string;
}

/**
 * A C program with a Kconfig build (busybox), from upstream's release tarball as Debian's
 * archive carries it (the `.orig` tarball of the source package: upstream's bytes, reachable
 * wherever the Debian mirror is).
 */
export interface KconfigRecipe<B extends string = BinaryName> {
  kind: 'kconfig';
  /** Path under the Debian mirror (pool/main/...) and its sha256 (as the source package's .dsc lists it). */
  tarball: { pool: string; sha256: string };
  /** `make <defconfig>`, then these options set (true) or unset (false). */
  defconfig: string;
  config: Record<string, boolean>;
  /** The built file in the source tree → artifact. */
  output: [string, B];
}

/** Our own Go program, standard library only (builds with no network). */
export interface LocalGoRecipe {
  kind: 'local-go';
  dir: string; // in this package
  output: BinaryName;
  ldflags: string[];
}

/** An official release archive and the checksum file published beside it. */
export interface ReleaseArchive {
  /** A .tar.gz, or (with `plain`) the binary itself, as runc publishes it. */
  file: string;
  plain?: boolean;
  checksum: { file: string; algorithm: 'sha256' | 'sha512' };
  /** Member path inside the archive → binary. */
  members: [string, BinaryName][];
}

export interface Group<B extends string = BinaryName, I extends string = GroupId> {
  id: I;
  version: string;
  upstream: string; // for the OCI source label
  binaries: B[];
  go: GoRecipe<B> | CRecipe<B> | LocalGoRecipe | KconfigRecipe<B>;
  release?: ReleaseArchive;
  /** A tool k8s-img runs itself (not part of any image): fetched by the command that needs it, never by fetch/build/up. */
  onDemand?: boolean;
}

/** The version stamp of every Kubernetes binary (unstamped, they report v0.0.0). */
export const k8sStamp = (v: string): string[] => {
  const [major, minor] = v.split('.');
  return ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].flatMap((p) => [
    `-X ${p}.gitVersion=v${v}`,
    `-X ${p}.gitMajor=${major}`,
    `-X ${p}.gitMinor=${minor}`,
    `-X ${p}.gitTreeState=clean`,
    // No commit is known offline; a fixed build date keeps the binaries reproducible.
    `-X ${p}.gitCommit=0000000000000000000000000000000000000000`,
    `-X ${p}.buildDate=1970-01-01T00:00:00Z`,
  ]);
};

const KUBE_BINARIES: BinaryName[] = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy', 'kubectl'];
const CNI: [string, BinaryName][] = [
  ['plugins/main/loopback', 'loopback'],
  ['plugins/meta/portmap', 'portmap'],
  ['plugins/meta/bandwidth', 'bandwidth'],
  ['plugins/ipam/host-local', 'host-local'],
];

/** The build tags of upstream's release binaries (hack/lib/golang.sh), test binaries included. */
export const KUBE_TAGS = ['selinux', 'notest', 'grpcnotrace'];

/**
 * The wrapper module of every build from k8s.io/kubernetes (components, e2e.test, agnhost):
 * the same go.mod, tags and flags let them share Go's build cache.
 */
export function kubernetesModule(k: string): Pick<GoRecipe, 'kind' | 'module' | 'version' | 'localReplace' | 'copyGodebug'> {
  const staging = `v0.${k.split('.').slice(1).join('.')}`;
  return {
    kind: 'go',
    module: 'k8s.io/kubernetes',
    version: `v${k}`,
    // Staging modules are replaced by ./staging/src/k8s.io/X upstream; v0.MINOR.PATCH is the same code.
    localReplace: (_path, module) => `${module} ${staging}`,
    copyGodebug: true,
  };
}

export function groups(v: ComponentVersions, toolVersion: string): Group[] {
  const k = v.kubernetes;
  return [
    {
      id: 'kubernetes',
      version: k,
      upstream: 'https://github.com/kubernetes/kubernetes',
      binaries: KUBE_BINARIES,
      go: {
        ...kubernetesModule(k),
        packages: KUBE_BINARIES.map((b) => [`k8s.io/kubernetes/cmd/${b}`, b]),
        tags: KUBE_TAGS,
        ldflags: k8sStamp(k),
      },
      release: {
        file: 'kubernetes-server-linux-amd64.tar.gz',
        checksum: { file: 'kubernetes-server-linux-amd64.tar.gz.sha512', algorithm: 'sha512' },
        members: KUBE_BINARIES.map((b) => [`kubernetes/server/bin/${b}`, b]),
      },
    },
    {
      id: 'etcd',
      version: v.etcd,
      upstream: 'https://github.com/etcd-io/etcd',
      binaries: ['etcd', 'etcdctl', 'etcdutl'],
      go: {
        kind: 'go',
        module: 'go.etcd.io/etcd/server/v3',
        version: `v${v.etcd}`,
        alsoRequire: [
          ['go.etcd.io/etcd/etcdctl/v3', `v${v.etcd}`],
          ['go.etcd.io/etcd/etcdutl/v3', `v${v.etcd}`],
        ],
        packages: [
          ['go.etcd.io/etcd/server/v3', 'etcd'],
          ['go.etcd.io/etcd/etcdctl/v3', 'etcdctl'],
          ['go.etcd.io/etcd/etcdutl/v3', 'etcdutl'],
        ],
        ldflags: [`-X go.etcd.io/etcd/api/v3/version.GitSHA=v${v.etcd}`],
      },
      release: {
        file: `etcd-v${v.etcd}-linux-amd64.tar.gz`,
        checksum: { file: 'SHA256SUMS', algorithm: 'sha256' },
        members: (['etcd', 'etcdctl', 'etcdutl'] as const).map((b) => [`etcd-v${v.etcd}-linux-amd64/${b}`, b]),
      },
    },
    {
      id: 'containerd',
      version: v.containerd,
      upstream: 'https://github.com/containerd/containerd',
      binaries: ['containerd', 'containerd-shim-runc-v2', 'ctr'],
      go: {
        kind: 'go',
        module: 'github.com/containerd/containerd/v2',
        version: `v${v.containerd}`,
        packages: [
          ['github.com/containerd/containerd/v2/cmd/containerd', 'containerd'],
          ['github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2', 'containerd-shim-runc-v2'],
          ['github.com/containerd/containerd/v2/cmd/ctr', 'ctr'],
        ],
        // Without cgo the btrfs snapshotter drops out by itself; overlayfs is what k8s-img uses.
        tags: ['no_btrfs', 'no_devmapper', 'no_zfs', 'urfave_cli_no_docs'],
        ldflags: [
          `-X github.com/containerd/containerd/v2/version.Version=v${v.containerd}`,
          `-X github.com/containerd/containerd/v2/version.Revision=v${v.containerd}`,
          '-X github.com/containerd/containerd/v2/version.Package=github.com/containerd/containerd',
        ],
      },
      release: {
        file: `containerd-static-${v.containerd}-linux-amd64.tar.gz`,
        checksum: { file: `containerd-static-${v.containerd}-linux-amd64.tar.gz.sha256sum`, algorithm: 'sha256' },
        members: (['containerd', 'containerd-shim-runc-v2', 'ctr'] as const).map((b) => [`bin/${b}`, b]),
      },
    },
    {
      id: 'runc',
      version: v.runc,
      upstream: 'https://github.com/opencontainers/runc',
      binaries: ['runc'],
      go: {
        kind: 'go',
        module: 'github.com/opencontainers/runc',
        version: `v${v.runc}`,
        packages: [['github.com/opencontainers/runc', 'runc']],
        // Upstream's release tags minus libpathrs (a Rust library; runc falls back to its Go code).
        tags: ['seccomp', 'urfave_cli_no_docs'],
        cgo: true,
        ldflags: [`-X main.version=${v.runc}`, `-X main.gitCommit=v${v.runc}`, '-extldflags -static'],
      },
      release: {
        file: 'runc.amd64',
        plain: true,
        checksum: { file: 'runc.sha256sum', algorithm: 'sha256' },
        members: [['runc.amd64', 'runc']],
      },
    },
    {
      id: 'registry',
      version: v.registry,
      upstream: 'https://github.com/distribution/distribution',
      binaries: ['registry'],
      go: {
        kind: 'go',
        module: 'github.com/distribution/distribution/v3',
        version: `v${v.registry}`,
        packages: [['github.com/distribution/distribution/v3/cmd/registry', 'registry']],
        ldflags: [
          `-X github.com/distribution/distribution/v3/version.version=v${v.registry}`,
          `-X github.com/distribution/distribution/v3/version.revision=v${v.registry}`,
        ],
      },
      release: {
        file: `registry_${v.registry}_linux_amd64.tar.gz`,
        checksum: { file: `registry_${v.registry}_linux_amd64.tar.gz.sha256`, algorithm: 'sha256' },
        members: [['registry', 'registry']],
      },
    },
    {
      id: 'calico',
      version: v.calico.release.replace(/^v/, ''),
      upstream: 'https://github.com/projectcalico/calico',
      binaries: ['calico-node', 'calico', 'calicoctl', 'calico-kube-controllers', 'check-status', 'calico-crds.yaml'],
      go: {
        kind: 'go',
        module: 'github.com/projectcalico/calico',
        version: v.calico.module,
        // The api module is nested in the repository, so it is not in the module zip: pin it.
        localReplace: (path) => (path === './api' ? `github.com/projectcalico/api ${v.calico.api}` : undefined),
        packages: [
          ['github.com/projectcalico/calico/node/cmd/calico-node', 'calico-node'],
          ['github.com/projectcalico/calico/cni-plugin/cmd/calico', 'calico'],
          ['github.com/projectcalico/calico/calicoctl/calicoctl', 'calicoctl'],
          ['github.com/projectcalico/calico/kube-controllers/cmd/kube-controllers', 'calico-kube-controllers'],
          ['github.com/projectcalico/calico/kube-controllers/cmd/check-status', 'check-status'],
        ],
        copyFiles: [['manifests/crds.yaml', 'calico-crds.yaml']],
        ldflags: [
          `-X github.com/projectcalico/calico/node/pkg/lifecycle/startup.VERSION=${v.calico.release}`,
          `-X github.com/projectcalico/calico/node/buildinfo.GitVersion=${v.calico.release}`,
          `-X github.com/projectcalico/calico/node/buildinfo.GitRevision=${v.calico.module.split('-').at(-1)}`,
          `-X github.com/projectcalico/calico/calicoctl/calicoctl/commands.VERSION=${v.calico.release}`,
          `-X github.com/projectcalico/calico/calicoctl/calicoctl/commands/common.VERSION=${v.calico.release}`,
          // main.VERSION of the CNI plugin, calicoctl and kube-controllers (their Makefiles).
          `-X main.VERSION=${v.calico.release}`,
        ],
      },
      release: {
        file: `calico-${v.calico.release}-linux-amd64.tar.gz`,
        checksum: { file: `calico-${v.calico.release}-linux-amd64.tar.gz.sha256`, algorithm: 'sha256' },
        members: [
          ['bin/calico-node', 'calico-node'],
          ['bin/cni/amd64/calico', 'calico'],
          ['bin/calicoctl/calicoctl-linux-amd64', 'calicoctl'],
          ['bin/kube-controllers/kube-controllers-linux-amd64', 'calico-kube-controllers'],
          ['bin/kube-controllers/check-status-linux-amd64', 'check-status'],
          ['manifests/crds.yaml', 'calico-crds.yaml'],
        ],
      },
    },
    {
      id: 'cni-plugins',
      version: v.cniPlugins,
      upstream: 'https://github.com/containernetworking/plugins',
      binaries: CNI.map(([, b]) => b),
      go: {
        kind: 'go',
        module: 'github.com/containernetworking/plugins',
        version: `v${v.cniPlugins}`,
        packages: CNI.map(([p, b]) => [`github.com/containernetworking/plugins/${p}`, b]),
        ldflags: [`-X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=v${v.cniPlugins}`],
      },
      release: {
        file: `cni-plugins-linux-amd64-v${v.cniPlugins}.tgz`,
        checksum: { file: `cni-plugins-linux-amd64-v${v.cniPlugins}.tgz.sha256`, algorithm: 'sha256' },
        members: CNI.map(([, b]) => [`./${b}`, b]),
      },
    },
    {
      id: 'coredns',
      version: v.coredns,
      upstream: 'https://github.com/coredns/coredns',
      binaries: ['coredns'],
      go: {
        kind: 'go',
        module: 'github.com/coredns/coredns',
        version: `v${v.coredns}`,
        packages: [['github.com/coredns/coredns', 'coredns']],
        tags: ['grpcnotrace'],
        ldflags: [`-X github.com/coredns/coredns/coremain.GitCommit=v${v.coredns}`],
      },
      release: {
        file: `coredns_${v.coredns}_linux_amd64.tgz`,
        checksum: { file: `coredns_${v.coredns}_linux_amd64.tgz.sha256`, algorithm: 'sha256' },
        members: [['coredns', 'coredns']],
      },
    },
    {
      id: 'pause',
      version: v.pause,
      upstream: 'https://github.com/kubernetes/kubernetes/tree/master/build/pause',
      binaries: ['pause'],
      go: {
        kind: 'c',
        source: { module: 'k8s.io/kubernetes', version: `v${k}`, file: 'build/pause/linux/pause.c' },
        output: 'pause',
        // The tag names only the pause version: the same image serves every Kubernetes version.
        defines: { VERSION: `v${v.pause}` },
      },
      // Upstream ships pause only as an image; mirrors made by `k8s-img fetch --export` carry this archive.
      release: {
        file: `pause-${v.pause}-linux-amd64.tar.gz`,
        checksum: { file: `pause-${v.pause}-linux-amd64.tar.gz.sha256`, algorithm: 'sha256' },
        members: [['pause', 'pause']],
      },
    },
    {
      id: 'probe',
      version: toolVersion,
      upstream: 'https://github.com/k8s-img/k8s-img/tree/main/images/probe',
      binaries: ['k8s-img-probe'],
      go: {
        kind: 'c',
        source: { packageFile: 'images/probe/probe.c' },
        output: 'k8s-img-probe',
        defines: { PROBE_VERSION: `"${toolVersion}"` },
        libs: ['mbedtls', 'mbedx509', 'mbedcrypto'],
      },
    },
    {
      id: 'workload',
      version: toolVersion,
      upstream: 'https://github.com/k8s-img/k8s-img/tree/main/images/workload',
      binaries: ['k8s-img-workload'],
      go: { kind: 'local-go', dir: 'images/workload', output: 'k8s-img-workload', ldflags: [`-X main.version=${toolVersion}`] },
    },
    {
      id: 'api-lb',
      version: toolVersion,
      upstream: 'https://github.com/k8s-img/k8s-img/tree/main/images/api-lb',
      binaries: ['k8s-img-api-lb'],
      go: { kind: 'local-go', dir: 'images/api-lb', output: 'k8s-img-api-lb', ldflags: [`-X main.version=${toolVersion}`] },
    },
    {
      id: 'kube-bench',
      version: KUBE_BENCH.version,
      upstream: 'https://github.com/aquasecurity/kube-bench',
      binaries: ['kube-bench', ...CIS_TARGETS.map((t) => `cis-${t}.yaml` as const)],
      onDemand: true,
      go: {
        kind: 'go',
        module: 'github.com/aquasecurity/kube-bench',
        version: `v${KUBE_BENCH.version}`,
        sum: KUBE_BENCH.sum,
        packages: [['github.com/aquasecurity/kube-bench', 'kube-bench']],
        // Upstream's release build (.goreleaser.yml), without its cfgDir: k8s-img passes its own.
        tags: ['osusergo', 'netgo', 'static_build'],
        ldflags: [`-X github.com/aquasecurity/kube-bench/cmd.KubeBenchVersion=v${KUBE_BENCH.version}`],
        copyFiles: CIS_TARGETS.map((t) => [`cfg/${KUBE_BENCH.benchmark}/${t}.yaml`, `cis-${t}.yaml`]),
      },
    },
    {
      id: 'gojq',
      version: GOJQ.version,
      upstream: 'https://github.com/itchyny/gojq',
      binaries: ['jq'],
      onDemand: true,
      go: {
        kind: 'go',
        module: 'github.com/itchyny/gojq',
        version: `v${GOJQ.version}`,
        sum: GOJQ.sum,
        packages: [['github.com/itchyny/gojq/cmd/gojq', 'jq']],
        ldflags: [`-X github.com/itchyny/gojq/cli.revision=v${GOJQ.version}`],
      },
    },
  ];
}

/**
 * The wrapper module's go.mod: require the upstream module(s) and copy the
 * upstream replace block (and godebug line), mapping local-path replacements.
 */
export function wrapperGoMod(r: GoRecipe<string>, upstreamGoMod: string, goVersion: string): string {
  const lines = [`module k8s-img.local/build`, '', `go ${goVersion}`, ''];
  if (r.copyGodebug) {
    const godebug = /^godebug\s+(.+)$/m.exec(upstreamGoMod);
    if (godebug) lines.push(`godebug ${godebug[1]}`, '');
  }
  lines.push('require (', `\t${r.module} ${r.version}`, ...(r.alsoRequire ?? []).map(([m, ver]) => `\t${m} ${ver}`), ')', '');
  if (r.localReplace) {
    const replaces: string[] = [];
    for (const [left, right] of parseReplaces(upstreamGoMod)) {
      const module = left.split(/\s+/)[0]!;
      if (right.startsWith('.') || right.startsWith('/')) {
        const mapped = r.localReplace(right, module);
        if (mapped) replaces.push(`\t${left} => ${mapped}`);
      } else {
        replaces.push(`\t${left} => ${right}`);
      }
    }
    if (replaces.length > 0) lines.push('replace (', ...replaces, ')', '');
  }
  return lines.join('\n');
}

/** The replace directives of a go.mod, as [left, right] pairs (both single-line and block forms). */
export function parseReplaces(goMod: string): [string, string][] {
  const out: [string, string][] = [];
  const stripped = goMod.replace(/\/\/.*$/gm, '');
  const add = (line: string) => {
    const m = /^\s*(\S+(?:\s+\S+)?)\s*=>\s*(\S+(?:\s+\S+)?)\s*$/.exec(line);
    if (m) out.push([m[1]!.trim(), m[2]!.trim()]);
  };
  for (const block of stripped.matchAll(/^replace\s*\(([\s\S]*?)^\)/gm)) block[1]!.split('\n').forEach(add);
  for (const single of stripped.matchAll(/^replace\s+([^(\n].*)$/gm)) add(single[1]!);
  return out;
}

/** The Go version a module declares (`go 1.26.0`). */
export function goDirective(goMod: string): string | undefined {
  return /^go\s+(\d+\.\d+(?:\.\d+)?)\s*$/m.exec(goMod)?.[1];
}

/** How each upstream binary reports its version (the `dir` source checks it). */
export function versionCheck(b: BinaryName, v: ComponentVersions): { args: string[]; expect: string } | undefined {
  const k = `Kubernetes v${v.kubernetes}`;
  const table: Partial<Record<BinaryName, { args: string[]; expect: string }>> = {
    'kube-apiserver': { args: ['--version'], expect: k },
    'kube-controller-manager': { args: ['--version'], expect: k },
    'kube-scheduler': { args: ['--version'], expect: k },
    kubelet: { args: ['--version'], expect: k },
    'kube-proxy': { args: ['--version'], expect: k },
    kubectl: { args: ['version', '--client'], expect: `Client Version: v${v.kubernetes}` },
    etcd: { args: ['--version'], expect: `etcd Version: ${v.etcd}` },
    etcdctl: { args: ['version'], expect: `etcdctl version: ${v.etcd}` },
    etcdutl: { args: ['version'], expect: `etcdutl version: ${v.etcd}` },
    containerd: { args: ['--version'], expect: `containerd github.com/containerd/containerd v${v.containerd}` },
    'containerd-shim-runc-v2': { args: ['-v'], expect: `v${v.containerd}` },
    ctr: { args: ['--version'], expect: `ctr github.com/containerd/containerd v${v.containerd}` },
    runc: { args: ['--version'], expect: `runc version ${v.runc}` },
    registry: { args: ['--version'], expect: `v${v.registry}` },
    'calico-node': { args: ['-v'], expect: v.calico.release },
    calico: { args: ['-v'], expect: v.calico.release },
    // Prints the client version, then fails to reach a datastore: only the output counts.
    calicoctl: { args: ['version'], expect: v.calico.release },
    'calico-kube-controllers': { args: ['--version'], expect: v.calico.release },
    coredns: { args: ['-version'], expect: `CoreDNS-${v.coredns}` },
    pause: { args: ['-v'], expect: `pause.c v${v.pause}` },
  };
  for (const p of ['loopback', 'portmap', 'bandwidth', 'host-local'] as const) table[p] = { args: [], expect: `v${v.cniPlugins}` };
  return table[b];
}
