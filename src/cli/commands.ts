// The command table: names, descriptions and options, known without loading any
// command's code. A command's module (and what it imports: dockerode, the PKI
// library, templates) is loaded only when that command runs.
import type { Argv } from 'yargs';
import type { CliIO } from './io.js';
import { acceptNewOption, configOption, knownHostsOption, kubeconfigMergeOption, localConfigOption, outOption } from './options.js';

export interface CommandSpec {
  command: string;
  describe: string;
  builder?: (y: Argv) => Argv;
  load: () => Promise<{ run(args: never, io: CliIO): Promise<void> | void }>;
}

export const COMMANDS: CommandSpec[] = [
  {
    command: 'init',
    describe: 'write a commented starter cluster.yaml (the tutorial\'s 3 nodes), or import config.properties files',
    builder: (y) =>
      y
        .option('out', { alias: 'o', type: 'string', requiresArg: true, default: 'cluster.yaml', describe: 'file to write' })
        .option('name', { type: 'string', requiresArg: true, default: 'demo', describe: 'cluster name' })
        .option('from-properties', { type: 'array', string: true, requiresArg: true, describe: "the tutorial's config.properties, one per node" })
        .option('force', { type: 'boolean', default: false, describe: 'overwrite an existing file' }),
    load: () => import('./commands/init.js'),
  },
  {
    command: 'validate',
    describe: 'check a cluster configuration and report every problem',
    builder: (y) => y.option('config', configOption),
    load: () => import('./commands/validate.js'),
  },
  {
    command: 'plan',
    describe: 'show which node runs what: images, ports, privileges (a picture, or --json)',
    builder: (y) => y.option('config', configOption).option('json', { type: 'boolean', default: false, describe: 'print the full plan as JSON' }),
    load: () => import('./commands/plan.js'),
  },
  {
    command: 'generate',
    describe: 'write one Compose bundle per node: DIR/<node>/compose.yaml and its files',
    builder: (y) => y.option('config', configOption).option('out', outOption('bundle folder: empty, absent, or one k8s-img made (updated atomically)')),
    load: () => import('./commands/generate.js'),
  },
  {
    command: 'fetch',
    describe: 'get the component binaries (binaries.source: go | release | dir) into the cache',
    builder: (y) =>
      y.option('config', configOption).option('export', { type: 'string', requiresArg: true, describe: 'also write them as a release mirror in DIR (for binaries.source: release)' }),
    load: () => import('./commands/fetch.js'),
  },
  {
    command: 'build',
    describe: 'build one image per component from the fetched binaries (fetches first if needed), reproducibly, each with an SBOM',
    builder: (y) =>
      y
        .option('config', configOption)
        .option('locked', { type: 'boolean', default: false, describe: 'fail rather than pin newer Debian packages when the mirror no longer has those of images/rootfs/*.lock.json' }),
    load: () => import('./commands/build.js'),
  },
  {
    command: 'save',
    describe: 'write DIR/<node>/images.tar with exactly the images that node\'s services need (+ images.sha256, images.txt), and the cluster registry\'s storage on control planes',
    builder: (y) => y.option('config', configOption).option('out', outOption('bundle folder (as given to generate)')),
    load: () => import('./commands/save.js'),
  },
  {
    command: 'images',
    describe: 'list every image of the cluster (components, pod images, bases, node) with its digest, size, base and SBOM',
    builder: (y) =>
      y
        .option('config', localConfigOption('cluster configuration (default: the local cluster)'))
        .option('json', { type: 'boolean', default: false, describe: 'print the list as JSON' }),
    load: () => import('./commands/images.js'),
  },
  {
    command: 'up',
    describe: 'run a multi-node cluster on this machine, each node a container (default: the tutorial\'s 3 nodes)',
    builder: (y) =>
      y
        .option('config', localConfigOption('cluster configuration (default: sm1 + sw1 + sw2 on 192.168.232.0/24)'))
        .option('kubeconfig-merge', kubeconfigMergeOption),
    load: () => import('./commands/up.js'),
  },
  {
    command: 'load [images..]',
    describe: "put images into the cluster's registry, from which every node pulls them: from this machine's Docker engine, or --archive FILE (OCI layout or docker save, .tar or .tar.gz); only what a registry copy lacks is sent",
    builder: (y) =>
      y
        .positional('images', { type: 'string', array: true, describe: 'image names (name[:tag]); with --archive: which of its images to load, or the name to give its one image' })
        .option('config', localConfigOption('cluster configuration (default: the local cluster)'))
        .option('archive', { type: 'string', requiresArg: true, describe: 'an image archive instead of the engine: OCI layout or docker save, multi-platform indexes resolved to the nodes\' platform' })
        .option('nodes', { type: 'string', hidden: true }),
    load: () => import('./commands/load.js'),
  },
  {
    command: 'preflight',
    describe: 'check every machine of the file over SSH (engine, Compose, ports, disk, clock, kernel) without changing anything',
    builder: (y) => y.option('config', configOption).option('accept-new', acceptNewOption).option('known-hosts', knownHostsOption),
    load: () => import('./commands/preflight.js'),
  },
  {
    command: 'deploy',
    describe: 'bring up (or update) the cluster on the machines of the file over SSH: preflight, changed files only, images when missing, compose up, health',
    builder: (y) => y.option('config', configOption).option('accept-new', acceptNewOption).option('known-hosts', knownHostsOption).option('kubeconfig-merge', kubeconfigMergeOption),
    load: () => import('./commands/deploy.js'),
  },
  {
    command: 'down',
    describe: 'remove the cluster\'s stacks: local node containers, network and volumes (by label), or each machine\'s stack over SSH, and its context from your kubeconfig; keys stay',
    builder: (y) => y.option('config', localConfigOption('cluster configuration given to `up` or `deploy`')).option('known-hosts', knownHostsOption),
    load: () => import('./commands/down.js'),
  },
  {
    command: 'logs',
    describe: "one tar.gz for a bug report: every node's container logs (containerd and kubelet included), docker ps, compose file, pod logs, addresses, routes, iptables; the API objects and events — never Secrets or keys",
    builder: (y) =>
      y
        .option('config', localConfigOption('cluster configuration (default: the local cluster)'))
        .option('out', outOption('folder to write <cluster>-logs-<time>.tar.gz into (made if absent)', '.')),
    load: () => import('./commands/logs.js'),
  },
  {
    command: 'kubeconfig',
    describe: 'print the cluster\'s admin kubeconfig (context k8s-img-<cluster>, credentials embedded)',
    builder: (y) => y.option('config', localConfigOption('cluster configuration (default: the local cluster)')),
    load: () => import('./commands/kubeconfig.js'),
  },
  {
    command: 'status',
    describe: 'check every component on every node, etcd, nodes, Calico and CoreDNS',
    builder: (y) =>
      y
        .option('config', localConfigOption('cluster configuration given to `up` or `deploy` (default: the local cluster)'))
        .option('json', { type: 'boolean', default: false, describe: 'print the checks as JSON' })
        .option('known-hosts', knownHostsOption),
    load: () => import('./commands/status.js'),
  },
  {
    command: 'verify',
    describe: 'smoke-test a running cluster: pods, pod-to-pod TCP/UDP across nodes, Services, NodePort, DNS, a rollout',
    builder: (y) => y.option('config', localConfigOption('cluster configuration (default: the local cluster)')),
    load: () => import('./commands/verify.js'),
  },
  {
    command: 'conformance',
    describe: 'run the upstream conformance suite (built here, offline) against the cluster; results in the cncf/k8s-conformance layout',
    builder: (y) =>
      y
        .option('config', localConfigOption('cluster configuration (default: the local cluster)'))
        .option('focus', { type: 'string', requiresArg: true, default: '\\[Conformance\\]', describe: 'ginkgo focus: a regular expression over spec names' })
        .option('skip', { type: 'string', requiresArg: true, describe: 'ginkgo skip: a regular expression over spec names' })
        .option('quick', { type: 'boolean', default: false, describe: 'only the quick subset CI runs (47 specs: exec, Services, DNS, volumes, tokens, probes, pulls, ...)' })
        .option('parallel', { type: 'number', requiresArg: true, default: 4, describe: 'ginkgo processes ([Serial] specs run alone, at the end)' })
        .option('out', outOption('results folder: e2e.log, junit_01.xml, summary (empty, absent, or an earlier run\'s)', 'conformance-results'))
        .option('known-hosts', knownHostsOption),
    load: () => import('./commands/conformance.js'),
  },
  {
    command: 'cis',
    describe: 'check the cluster against the CIS Kubernetes Benchmark: kube-bench on every node, per target PASS/FAIL/WARN',
    builder: (y) =>
      y
        .option('config', localConfigOption('cluster configuration (default: the local cluster)'))
        .option('out', { alias: 'o', type: 'string', requiresArg: true, describe: "also write kube-bench's output per node and the report into DIR" })
        .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON' })
        .option('known-hosts', knownHostsOption),
    load: () => import('./commands/cis.js'),
  },
  {
    command: 'certs <action>',
    describe: 'secure mode: `check` lists every certificate with its expiry; `renew` re-issues the leaves (CAs and keys stay)',
    builder: (y) =>
      y
        .positional('action', { choices: ['check', 'renew'] as const, describe: 'check or renew' })
        .option('config', localConfigOption('cluster configuration (default: the local cluster)')),
    load: () => import('./commands/certs.js'),
  },
  {
    command: 'schema',
    describe: "print the JSON Schema of cluster.yaml (for editors; the package's schema/cluster.schema.json holds the same)",
    load: () => import('./commands/schema.js'),
  },
  {
    command: 'etcd <subject> <action> [snapshot]',
    describe: 'etcd snapshots: `etcd snapshot save [--name N]`, `etcd snapshot list`, `etcd snapshot fetch NODE:NAME [--name N]` (a periodic one, into the state folder), `etcd snapshot restore NAME|NODE:NAME`',
    builder: (y) =>
      y
        .positional('subject', { choices: ['snapshot'] as const, describe: 'what to act on' })
        .positional('action', { choices: ['save', 'list', 'fetch', 'restore'] as const, describe: 'save a snapshot, list them, fetch a periodic one from its member, or restore one' })
        .positional('snapshot', { type: 'string', describe: 'restore: the snapshot\'s name, or NODE:NAME for a periodic one (see list); fetch: NODE:NAME' })
        .option('config', localConfigOption('cluster configuration (default: the local cluster)'))
        .option('name', { type: 'string', requiresArg: true, describe: 'save: the snapshot\'s name (default: <cluster>-<UTC time>); fetch: its name in the state folder (default: <node>-<name>)' })
        .option('json', { type: 'boolean', default: false, describe: 'list: print the manifests as JSON' })
        .option('known-hosts', knownHostsOption),
    load: () => import('./commands/etcd.js'),
  },
  {
    command: 'upgrade',
    describe: 'rolling upgrade to the next minor (or a newer patch): etcd snapshot, etcd members, control planes, then workers drained in batches; resumes after a failure',
    builder: (y) =>
      y
        .option('config', localConfigOption('cluster configuration (default: the local cluster)'))
        .option('to', { type: 'string', requiresArg: true, demandOption: true, describe: 'the Kubernetes version to upgrade to (see `k8s-img versions`)' })
        .option('batch', { type: 'number', requiresArg: true, default: 1, describe: 'workers upgraded at once' })
        .option('drain-timeout', { type: 'number', requiresArg: true, default: 300, describe: 'seconds a drain may take before the upgrade stops (the node stays cordoned)' })
        .option('known-hosts', knownHostsOption),
    load: () => import('./commands/upgrade.js'),
  },
  {
    command: 'versions',
    describe: 'list the supported Kubernetes versions and the component versions each uses',
    load: () => import('./commands/versions.js'),
  },
];
