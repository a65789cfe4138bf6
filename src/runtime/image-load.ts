// Images into the engine without `docker build`: the layers we encoded, streamed as a
// docker-archive into `docker load`, with the config written last (its diff IDs are
// hashed on the way). The engine keeps the config's bytes, so the image ID is the
// sha256 of what we wrote — checked after the load.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { BuildError } from '../errors.js';
import { imageConfig, type BaseConfig, type HistoryEntry, type ImageConfigSpec } from '../render/image-config.js';
import { END_OF_ARCHIVE, encodeEntry, type EncodedLayer, type LayerChunk } from '../render/layer-tar.js';
import type { DockerEngine } from './docker.js';

/** Where a layer file's bytes come from: a file (checked against its sha256 when known) or bytes. */
export type LayerSource = { file: string; sha256?: string } | Buffer;

export type NewLayer =
  /** Entries we encoded. */
  | { encoded: EncodedLayer<LayerSource>; history: HistoryEntry }
  /** A finished tar (a root filesystem made by mmdebstrap). */
  | { tarFile: string; size: number; history: HistoryEntry };

export interface LoadedImage {
  id: string;
  config: string;
  diffIds: string[];
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

async function* fileBytes(path: string, size: number, expectSha?: string): AsyncGenerator<Buffer> {
  const h = expectSha ? createHash('sha256') : undefined;
  let n = 0;
  for await (const chunk of createReadStream(path)) {
    const b = chunk as Buffer;
    n += b.length;
    if (n > size) break;
    h?.update(b);
    yield b;
  }
  if (n !== size) throw new BuildError(`${path} changed while the image was being made (${n} bytes, expected ${size})`, 'run the build again');
  if (h && h.digest('hex') !== expectSha) throw new BuildError(`${path} does not have the sha256 recorded for it (${expectSha})`, 'the cache was altered: remove the file and build again');
}

async function* layerBytes(layer: NewLayer): AsyncGenerator<Buffer> {
  if ('tarFile' in layer) {
    yield* fileBytes(layer.tarFile, layer.size);
    return;
  }
  for (const c of layer.encoded.chunks) {
    if (Buffer.isBuffer(c)) yield c;
    else if (Buffer.isBuffer(c.content)) yield c.content;
    else yield* fileBytes(c.content.file, c.size, c.content.sha256);
  }
}

const layerSize = (l: NewLayer) => ('tarFile' in l ? l.size : l.encoded.size);

/**
 * Loads `base` + `layers` as `ref`. Base layers are named in the manifest but not sent:
 * `docker load` reads a layer file only when the engine lacks that layer.
 */
export async function loadImage(
  docker: DockerEngine,
  ref: string,
  spec: ImageConfigSpec,
  base: BaseConfig,
  layers: NewLayer[],
  opts: { epoch: number; arch: string },
): Promise<LoadedImage> {
  const diffIds: string[] = [];
  let config = '';
  const mtime = opts.epoch;
  const names = [...base.diffIds.map((_, i) => `base/${i}.tar`), ...layers.map((_, i) => `layers/${i}.tar`)];
  async function* archive(): AsyncGenerator<Buffer> {
    for (const [i, layer] of layers.entries()) {
      const hash = createHash('sha256');
      for (const c of encodeEntry<'layer'>({ path: `layers/${i}.tar`, type: 'file', mode: 0o644, uid: 0, gid: 0, size: layerSize(layer), content: 'layer' }, mtime)) {
        if (Buffer.isBuffer(c)) {
          yield c;
          continue;
        }
        for await (const b of layerBytes(layer)) {
          hash.update(b);
          yield b;
        }
      }
      diffIds.push(`sha256:${hash.digest('hex')}`);
    }
    config = imageConfig(spec, base, layers.map((l, i) => ({ diffId: diffIds[i]!, history: l.history })), opts);
    const manifest = JSON.stringify([{ Config: 'config.json', RepoTags: [ref], Layers: names }]);
    for (const [path, text] of [['config.json', config], ['manifest.json', manifest]] as const) {
      const data = Buffer.from(text);
      yield* encodeEntry({ path, type: 'file', mode: 0o644, uid: 0, gid: 0, size: data.length, content: data }, mtime).map((c: LayerChunk<Buffer>) => (Buffer.isBuffer(c) ? c : c.content));
    }
    yield END_OF_ARCHIVE;
  }
  // A failure while reading our own inputs is the error to report, not the engine's "unexpected EOF".
  let failure: unknown;
  async function* guarded(): AsyncGenerator<Buffer> {
    try {
      yield* archive();
    } catch (e) {
      failure = e;
      throw e;
    }
  }
  await docker.loadStream(Readable.from(guarded()), `loading ${ref}`).catch((e: unknown) => {
    throw failure ?? e;
  });
  if (failure) throw failure;
  const id = `sha256:${sha256(config)}`;
  const got = await docker.imageInfo(ref);
  if (got?.id !== id) {
    throw new BuildError(`the engine holds ${ref} as ${got?.id ?? 'nothing'}, not as the image made (${id})`, 'k8s-img needs an engine that keeps image configs as loaded (the overlay2 image store)');
  }
  return { id, config, diffIds };
}
