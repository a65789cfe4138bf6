// The Docker engine, reached through dockerode created here and nowhere else.
// Build failures arrive as `errorDetail` events inside an HTTP-200 stream:
// every event is inspected.
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import Docker from 'dockerode';
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

  async imageInfo(ref: string): Promise<{ id: string; size: number; labels: Record<string, string> } | undefined> {
    try {
      const info = await this.api.getImage(ref).inspect();
      return { id: info.Id, size: info.Size, labels: info.Config?.Labels ?? {} };
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
  async build(contextDir: string, files: string[], tag: string, labels: Record<string, string>, onLine?: (l: string) => void): Promise<string> {
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.api.buildImage({ context: contextDir, src: files }, { t: tag, labels, rm: true, forcerm: true, pull: false });
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
    // getImages (GET /images/get?names=...) is missing from @types/dockerode.
    const api = this.api as unknown as { getImages(o: { names: string[] }): Promise<NodeJS.ReadableStream> };
    const stream = await api.getImages({ names: refs });
    await pipeline(stream, createWriteStream(outFile));
  }

  async load(file: string): Promise<void> {
    const stream = await this.api.loadImage(createReadStream(file), { quiet: true });
    await this.follow(stream as NodeJS.ReadableStream, `loading ${file}`);
  }

  async removeImage(ref: string): Promise<void> {
    await this.api.getImage(ref).remove({ force: true }).catch(() => undefined);
  }

  async listImages(labels: Record<string, string>): Promise<Docker.ImageInfo[]> {
    return this.api.listImages({ filters: { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) } });
  }
}
