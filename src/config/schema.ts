// The user-facing, versioned configuration (cluster.yaml). Structure and types
// only: formats and cross-field rules live in rules.ts so that every problem
// is reported at once.
import { z } from 'zod';

export const API_VERSION = 'k8s-img/v1alpha1';
export const ROLES = ['control-plane', 'worker', 'etcd'] as const;
export type Role = (typeof ROLES)[number];
export const SECURITY_MODES = ['secure', 'simple'] as const;
export type SecurityMode = (typeof SECURITY_MODES)[number];
export const BINARY_SOURCES = ['go', 'release', 'dir'] as const;
export type BinarySource = (typeof BINARY_SOURCES)[number];
export const CALICO_BACKENDS = ['vxlan', 'bgp'] as const;
/** Pod Security Standards levels (the PodSecurity admission plugin). */
export const POD_SECURITY_LEVELS = ['privileged', 'baseline', 'restricted'] as const;
export type PodSecurityLevel = (typeof POD_SECURITY_LEVELS)[number];

/** How `deploy` reaches a machine. Keys only: no password is ever read from the file. */
const ssh = z.object({
  user: z.string().optional(),
  port: z.number().optional(), // whole and in range: checked by the rules
  identityFile: z.string().optional(),
});

const node = z.object({
  name: z.string(),
  address: z.string(),
  roles: z.array(z.enum(ROLES)).min(1),
  ssh: ssh.optional(),
});

const networking = z.object({
  podCIDR: z.string().optional(),
  serviceCIDR: z.string().optional(),
  clusterDNS: z.string().optional(),
  dnsDomain: z.string().optional(),
  nodePortRange: z.string().optional(),
  /** Resolvers CoreDNS forwards to. Absent: the node's /etc/resolv.conf. Empty: cluster names only. */
  upstreamDNS: z.array(z.string()).optional(),
  calico: z
    .object({
      backend: z.enum(CALICO_BACKENDS).optional(),
      mtu: z.number().optional(), // whole and in range: checked by the rules, in our words
      /** The BGP autonomous system of every node (bgp backend). */
      asNumber: z.number().optional(),
    })
    .optional(),
});

export const clusterSchema = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Cluster'),
  name: z.string(),
  kubernetesVersion: z.string().optional(),
  nodes: z.array(node).min(1),
  /** Defaults for every node's `ssh` block. */
  ssh: ssh.optional(),
  networking: networking.optional(),
  /** etcd beyond its members: periodic snapshots on every member (off unless the block is there). */
  etcd: z
    .object({
      snapshots: z
        .object({
          /** How often: a duration such as 6h, 30m or 1d12h (checked by the rules). */
          every: z.string().optional(),
          /** How many each member keeps; older ones are removed. */
          keep: z.number().optional(),
        })
        .optional(),
    })
    .optional(),
  security: z
    .object({
      mode: z.enum(SECURITY_MODES).optional(),
      /** Cluster-wide Pod Security defaults (secure mode); namespaces may set their own levels by label. */
      podSecurity: z
        .object({
          enforce: z.enum(POD_SECURITY_LEVELS).optional(),
          warn: z.enum(POD_SECURITY_LEVELS).optional(),
          audit: z.enum(POD_SECURITY_LEVELS).optional(),
          exemptNamespaces: z.array(z.string()).optional(),
        })
        .optional(),
    })
    .optional(),
  images: z
    .object({
      prefix: z.string().optional(),
      /** A Debian-like image with the node tools, for users who can pull one instead of running mmdebstrap. */
      base: z.string().optional(),
    })
    .optional(),
  binaries: z
    .object({
      source: z.enum(BINARY_SOURCES).optional(),
      dir: z.string().optional(),
      releaseURL: z.string().optional(),
      goproxy: z.string().optional(),
    })
    .optional(),
});

/** The configuration as written by the user (optional keys may be missing). */
export type ClusterConfig = z.infer<typeof clusterSchema>;
export type NodeConfig = z.infer<typeof node>;
export type SshConfig = z.infer<typeof ssh>;
