// Where a cluster's nodes are and how k8s-img reaches them (kind's providers). Every
// step of up, deploy, status and down goes through these two interfaces, so one
// pipeline serves local node containers and machines reached over SSH alike.
import type { ResolvedConfig } from '../config/defaults.js';
import type { Reporter } from '../pipeline/progress.js';
import type { BundleTarget } from '../runtime/bundle-sync.js';
import type { DockerEngine } from '../runtime/docker.js';
import type { SshTarget } from '../runtime/ssh.js';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** One node, connected: what a user does on the machine, k8s-img does through this. */
export interface NodeHost extends BundleTarget {
  readonly node: string;
  /** For messages: how the node is reached (`root@10.0.0.5:22`, `container k8s-img-demo-sm1`). */
  readonly where: string;
  /** Where the node keeps its bundle. */
  readonly bundleDir: string;
  /** Runs argv on the node (no shell); `dir` is the working directory, `stdinFile` a local file fed to stdin. */
  exec(argv: string[], dir?: string, stdinFile?: string): Promise<ExecResult>;
  /** A tar stream holding `path` on the node, its last path element at the root (`docker cp` out; day-two copies snapshots off with it). */
  getTar(path: string): Promise<NodeJS.ReadableStream>;
  close(): void;
}

/** Image archives (`save`), each with the images it holds. */
export type NodeArchiveList = { file: string; images: { ref: string; id: string }[] }[];

export interface NodeProvider {
  readonly kind: 'local' | 'ssh';
  /** Before provisioning, with the images built: what the provider itself needs (local: the node image). */
  prepare?(build: { config: ResolvedConfig; docker: DockerEngine; reporter: Reporter; workDir: string }): Promise<void>;
  /**
   * Makes the machines exist and answer (local: node containers); SSH hosts exist already.
   * `archives` are the nodes' image archives: local mode starts new nodes with their images in place.
   */
  provision(nodes: { name: string; address: string; roles: string[] }[], archives?: NodeArchiveList, update?: (detail: string) => void): Promise<void>;
  connect(node: string): Promise<NodeHost>;
  /** How the node is reached, kept in the deploy record (machines over SSH). */
  sshTarget?(node: string): SshTarget;
  /** After its stack is torn down: removes the machine itself if k8s-img made it. */
  release(node: string): Promise<void>;
  close(): void;
}
