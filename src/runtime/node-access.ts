// What day-two operations (etcd snapshots, restores, upgrades) need of a node: run
// argv there, put a tar there, get a tar back. The shape of the NodeProvider's
// NodeHost plus getTar, so SSH machines plug in with one implementation more.
import type { BundleTarget } from './bundle-sync.js';
import type { DockerEngine } from './docker.js';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface NodeAccess extends BundleTarget {
  readonly node: string;
  /** For messages: how the node is reached. */
  readonly where: string;
  /** Where the node keeps its bundle (the Compose project folder). */
  readonly bundleDir: string;
  /** Runs argv on the node (no shell); `stdinFile` is a local file fed to its stdin. */
  exec(argv: string[], dir?: string, stdinFile?: string): Promise<ExecResult>;
  /** A tar stream holding `path` on the node (its last path element at the root). */
  getTar(path: string): Promise<NodeJS.ReadableStream>;
}

/** A local node container: `docker exec`, `docker cp` in and out. */
export function containerAccess(docker: DockerEngine, node: string, container: string, bundleDir: string): NodeAccess {
  return {
    node,
    where: `container ${container}`,
    bundleDir,
    exec: (argv, dir, stdinFile) => docker.exec(container, argv, { ...(dir ? { workdir: dir } : {}), ...(stdinFile ? { stdinFile } : {}) }),
    putTar: (stream, dir) => docker.putArchive(container, stream, dir),
    getTar: (path) => docker.getArchive(container, path),
  };
}
