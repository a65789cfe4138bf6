// The Docker engine, reached through dockerode created here and nowhere else.
// Build failures arrive as `errorDetail` events inside an HTTP-200 stream:
// every event is inspected.
import { createReadStream, createWriteStream } from 'node:fs';
import { PassThrough, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import Docker from 'dockerode';
import tar from 'tar-stream';
import { BuildError, HostError } from '../errors.js';

export interface BuildEvent {
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

let shared: Docker | undefined;

/** The one dockerode instance (DOCKER_HOST and friends are honoured by docker-modem). */
export function dockerode(): Docker {
  shared ??= new Docker();
  return shared;
}

export class DockerEngine {
  constructor(readonly api: Docker = dockerode()) {}

  async ping(): Promise<void> {
    try {
      await this.api.ping();
    } catch (e) {
      throw new HostError(`no Docker engine answers (${(e as Error).message})`, 'run `npm run setup` (as root) to install and start one', { cause: e });
    }
  }

  async imageLabels(ref: string): Promise<Record<string, string> | undefined> {
    try {
      const info = await this.api.getImage(ref).inspect();
      return info.Config?.Labels ?? {};
    } catch {
      return undefined;
    }
  }

  async imageInfo(ref: string): Promise<{ id: string; size: number; labels: Record<string, string>; layers: string[] } | undefined> {
    try {
      const info = await this.api.getImage(ref).inspect();
      return { id: info.Id, size: info.Size, labels: info.Config?.Labels ?? {}, layers: info.RootFS?.Layers ?? [] };
    } catch {
      return undefined;
    }
  }

  /** Streams a build (or import) response, failing on the first error event. */
  private follow(stream: NodeJS.ReadableStream, what: string, onLine?: (l: string) => void): Promise<BuildEvent[]> {
    return new Promise((resolve, reject) => {
      const log: string[] = [];
      this.api.modem.followProgress(
        stream,
        (err: Error | null, events: BuildEvent[]) => {
          if (err) return reject(new BuildError(`${what}: ${err.message}`, 'see the build log above', log.slice(-20)));
          const failed = events.find((e) => e.error || e.errorDetail);
          if (failed) {
            return reject(new BuildError(`${what} failed: ${failed.errorDetail?.message ?? failed.error}`, 'the last lines of the build log are shown above', log.slice(-20)));
          }
          resolve(events);
        },
        (e: BuildEvent) => {
          const text = (e.stream ?? e.status ?? '').trimEnd();
          if (text) {
            for (const l of text.split('\n')) log.push(l);
            onLine?.(text);
          }
        },
      );
    });
  }

  /** Builds `contextDir` (only `files`) with its Dockerfile; returns the image ID. */
  async build(contextDir: string, files: string[], tag: string, labels: Record<string, string>, onLine?: (l: string) => void, buildargs?: Record<string, string>): Promise<string> {
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.api.buildImage({ context: contextDir, src: files }, { t: tag, labels, rm: true, forcerm: true, pull: false, ...(buildargs ? { buildargs } : {}) });
    } catch (e) {
      throw new BuildError(`building ${tag}: ${(e as Error).message}`, 'is the engine running? (npm run setup)');
    }
    const events = await this.follow(stream, `building ${tag}`, onLine);
    const id = events.map((e) => e.aux?.ID).find(Boolean);
    const info = await this.imageInfo(tag);
    if (!info) throw new BuildError(`building ${tag}: the engine reported success but the image is missing`, 'rerun with a clean engine', []);
    return id ?? info.id;
  }

  /** Imports a root filesystem tarball as an image (the base for images that need a userland). */
  async importRootfs(tarPath: string, repo: string, tag: string, labels: Record<string, string>): Promise<void> {
    // `changes` takes Dockerfile instructions, as `docker import --change`.
    const changes = Object.entries(labels).map(([k, v]) => `LABEL ${k}=${JSON.stringify(v)}`);
    const stream = await this.api.importImage(tarPath, { repo, tag, changes } as never);
    await this.follow(stream as unknown as NodeJS.ReadableStream, `importing ${repo}:${tag}`);
  }

  /** `docker save` of several images into one archive. */
  async save(refs: string[], outFile: string): Promise<void> {
    await pipeline(await this.saveStream(refs), createWriteStream(outFile));
  }

  /** `docker save` as a stream (an OCI layout plus Docker's manifest.json, engine >= 25). */
  async saveStream(refs: string[]): Promise<NodeJS.ReadableStream> {
    // getImages (GET /images/get?names=...) is missing from @types/dockerode.
    const api = this.api as unknown as { getImages(o: { names: string[] }): Promise<NodeJS.ReadableStream> };
    return api.getImages({ names: refs });
  }

  async load(file: string): Promise<void> {
    const stream = await this.api.loadImage(createReadStream(file), { quiet: true });
    await this.follow(stream as NodeJS.ReadableStream, `loading ${file}`);
  }

  /** `docker load` from a stream (an archive we write as we go); fails on the first error event. */
  async loadStream(archive: NodeJS.ReadableStream, what: string): Promise<void> {
    let stream: NodeJS.ReadableStream;
    try {
      stream = (await this.api.loadImage(archive, { quiet: true })) as NodeJS.ReadableStream;
    } catch (e) {
      throw new BuildError(`${what}: ${(e as Error).message}`, 'is the engine running? (npm run setup)', [], { cause: e });
    }
    await this.follow(stream, what);
  }

  /** One file of an image, read through a container that is created (never started) and removed. */
  async readImageFile(ref: string, path: string): Promise<Buffer> {
    const c = await this.api.createContainer({ Image: ref, Cmd: ['/k8s-img-never-run'], Labels: { 'io.k8s-img.managed': 'true', 'io.k8s-img.component': 'read-file' } });
    try {
      const archive = (await c.getArchive({ path })) as unknown as NodeJS.ReadableStream;
      const extract = tar.extract();
      let data: Buffer | undefined;
      extract.on('entry', (header, stream, next) => {
        const chunks: Buffer[] = [];
        stream.on('data', (b: unknown) => chunks.push(b as Buffer));
        stream.on('end', () => {
          if (!data && header.type === 'file') data = Buffer.concat(chunks);
          next();
        });
      });
      await pipeline(archive, extract);
      if (!data) throw new BuildError(`${path} in ${ref} is not a regular file`, 'use a base image whose file is a regular file');
      return data;
    } catch (e) {
      if (e instanceof BuildError) throw e;
      throw new BuildError(`cannot read ${path} from ${ref}: ${(e as Error).message}`, 'the base image must have it', [], { cause: e });
    } finally {
      await c.remove({ force: true, v: true }).catch(() => undefined);
    }
  }

  async removeImage(ref: string): Promise<void> {
    await this.api.getImage(ref).remove({ force: true }).catch(() => undefined);
  }

  // ---- containers, networks, volumes (local mode) ----

  async createNetwork(name: string, subnet: string, labels: Record<string, string>): Promise<void> {
    try {
      await this.api.createNetwork({ Name: name, Driver: 'bridge', CheckDuplicate: true, IPAM: { Config: [{ Subnet: subnet }] }, Labels: labels });
    } catch (e) {
      const msg = (e as { json?: { message?: string } }).json?.message ?? (e as Error).message;
      throw new HostError(`cannot create network ${name} (${subnet}): ${msg}`, 'another network uses these addresses: remove it, or give the nodes addresses on a free /24 (k8s-img up -c FILE)');
    }
  }

  async networkExists(name: string): Promise<boolean> {
    return this.api.getNetwork(name).inspect().then(() => true, () => false);
  }

  async createVolume(name: string, labels: Record<string, string>): Promise<void> {
    await this.api.createVolume({ Name: name, Labels: labels });
  }

  async containerState(name: string): Promise<{ running: boolean; id: string } | undefined> {
    try {
      const i = await this.api.getContainer(name).inspect();
      return { running: i.State.Running, id: i.Id };
    } catch {
      return undefined;
    }
  }

  async runContainer(opts: Docker.ContainerCreateOptions): Promise<void> {
    const c = await this.api.createContainer(opts);
    await c.start();
  }

  // Containers made here are removed with v: true: the anonymous volumes an image's VOLUME
  // gave them go too (named volumes never do), or every run would leave one behind.

  /** Creates and starts a container, waits for it to exit, removes it: its exit code and output. */
  async runToCompletion(opts: Docker.ContainerCreateOptions): Promise<{ code: number; output: string }> {
    const c = await this.api.createContainer(opts);
    try {
      await c.start();
      const { StatusCode } = (await c.wait()) as { StatusCode: number };
      return { code: StatusCode, output: await this.logs(c.id) };
    } finally {
      await c.remove({ force: true, v: true }).catch(() => undefined);
    }
  }

  /** Stops a container (SIGTERM, then SIGKILL after `timeoutSeconds`) and removes it. */
  async stopAndRemove(name: string, timeoutSeconds = 30): Promise<void> {
    const c = this.api.getContainer(name);
    await c.stop({ t: timeoutSeconds }).catch((e: { statusCode?: number }) => {
      if (e.statusCode !== 304 && e.statusCode !== 404) throw e;
    });
    await c.remove({ force: true, v: true }).catch(() => undefined);
  }



  async volumeExists(name: string): Promise<boolean> {
    return this.api.getVolume(name).inspect().then(() => true, () => false);
  }



  async startContainer(name: string): Promise<void> {
    await this.api.getContainer(name).start().catch((e: { statusCode?: number }) => {
      if (e.statusCode !== 304) throw e; // already running
    });
  }

  async restartContainer(name: string, timeoutSeconds = 10): Promise<void> {
    await this.api.getContainer(name).restart({ t: timeoutSeconds });
  }

  async list(labels: Record<string, string>): Promise<Docker.ContainerInfo[]> {
    return this.api.listContainers({ all: true, filters: { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) } });
  }

  /**
   * Removes containers, then volumes, then networks carrying all `labels`;
   * `spare` keeps containers that match but must not go (see pipeline/local.ts).
   */
  async removeLabelled(labels: Record<string, string>, spare: (labels: Record<string, string>) => boolean = () => false): Promise<{ containers: number; volumes: number; networks: number }> {
    const filter = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
    const containers = (await this.api.listContainers({ all: true, filters: filter })).filter((c) => !spare(c.Labels ?? {}));
    for (const c of containers) await this.api.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
    const { Volumes } = await this.api.listVolumes({ filters: filter });
    for (const v of Volumes ?? []) await this.api.getVolume(v.Name).remove({ force: true }).catch(() => undefined);
    const networks = await this.api.listNetworks({ filters: filter });
    for (const n of networks) await this.api.getNetwork(n.Id).remove().catch(() => undefined);
    return { containers: containers.length, volumes: (Volumes ?? []).length, networks: networks.length };
  }

  /** Runs a command in a container; stdin may be a file streamed in (e.g. `docker load`). */
  async exec(container: string, cmd: string[], opts: { stdinFile?: string; workdir?: string; env?: string[] } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    const input = opts.stdinFile ? createReadStream(opts.stdinFile) : undefined;
    const exec = await this.api.getContainer(container).exec({
      Cmd: cmd,
      AttachStdout: true,
      AttachStderr: true,
      AttachStdin: Boolean(input),
      WorkingDir: opts.workdir,
      Env: opts.env,
    });
    const stream = await exec.start({ hijack: true, stdin: Boolean(input) });
    let stdout = '';
    let stderr = '';
    const out = new PassThrough();
    const err = new PassThrough();
    out.on('data', (c: Buffer) => (stdout += c.toString()));
    err.on('data', (c: Buffer) => (stderr += c.toString()));
    this.api.modem.demuxStream(stream, out, err);
    const ended = new Promise<void>((resolve, reject) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', reject);
    });
    if (input) {
      await pipeline(input, new Writable({
        write: (chunk, _enc, cb) => (stream.write(chunk) ? cb() : stream.once('drain', cb)),
        final: (cb) => {
          (stream as unknown as { end(): void }).end();
          cb();
        },
      }));
    }
    await ended;
    const info = await exec.inspect();
    return { code: info.ExitCode ?? -1, stdout, stderr };
  }

  /** What a container printed (stdout and stderr, in order). */
  async logs(container: string, tail?: number): Promise<string> {
    const raw = (await this.api.getContainer(container).logs({ stdout: true, stderr: true, follow: false, ...(tail ? { tail } : {}) })) as unknown as Buffer;
    // Multiplexed frames: 8-byte header (stream, 0, 0, 0, big-endian length), then the payload.
    let out = '';
    for (let i = 0; i + 8 <= raw.length; ) {
      const len = raw.readUInt32BE(i + 4);
      out += raw.subarray(i + 8, i + 8 + len).toString('utf8');
      i += 8 + len;
    }
    return out;
  }

  /** Copies a tar archive into a container at `path` (like scp to a machine). */
  async putArchive(container: string, tar: NodeJS.ReadableStream | Buffer, path: string): Promise<void> {
    await this.api.getContainer(container).putArchive(tar as never, { path });
  }

  /** A file or folder of a container as a tar stream (like `docker cp CONTAINER:PATH -`). */
  async getArchive(container: string, path: string): Promise<NodeJS.ReadableStream> {
    return (await this.api.getContainer(container).getArchive({ path })) as unknown as NodeJS.ReadableStream;
  }

  async listImages(labels: Record<string, string>): Promise<Docker.ImageInfo[]> {
    return this.api.listImages({ filters: { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) } });
  }
}
