// Images from an archive file: an OCI image layout (what `docker buildx build -o
// type=oci`, `docker save` since engine 25, skopeo and crane write) or a classic
// `docker save` archive (manifest.json + one folder per layer), gzip-compressed or
// not. Two passes over the file: the first keeps the small JSON documents (index,
// manifests, configs) in memory and decides which image and platform to take; the
// second streams only the layers that image needs into the blob store, which checks
// every digest.
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { posix } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { BuildError } from '../errors.js';
import { normalizedName, parseImageName } from '../plan/image-name.js';
import { fsError } from './fs-errors.js';
import type { BlobStore, OciImage } from './oci-export.js';
import { MEDIA, platformText, resolveImage, type Descriptor, type Platform } from './oci-image.js';

/** Small JSON documents are kept from the first pass; layers are streamed in the second. */
const SMALL = 4 * 1024 * 1024;
const SMALL_TOTAL = 256 * 1024 * 1024;
const BLOB_PATH = /^blobs\/sha256\/([0-9a-f]{64})$/;

export interface ArchiveImage extends OciImage {
  platform: Platform;
}

interface Scan {
  /** Small files that look like JSON, by path. */
  json: Map<string, Buffer>;
  sizes: Map<string, number>;
  links: Map<string, string>;
}

const clean = (p: string) => posix.normalize(p).replace(/^(\.\/)+/, '').replace(/^\/+/, '');

function isGzip(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(2);
    return readSync(fd, b, 0, 2, 0) === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

/** Runs `onEntry` for every regular file of the archive (links are recorded in `links`). */
async function walk(file: string, gzip: boolean, links: Map<string, string> | undefined, onEntry: (path: string, size: number, data: Readable) => Promise<void>): Promise<void> {
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const path = clean(header.name);
    if ((header.type === 'symlink' || header.type === 'link') && header.linkname && links) {
      // Classic `docker save` links a layer two images share: <id>/layer.tar -> ../<other>/layer.tar.
      links.set(path, clean(header.type === 'symlink' ? posix.join(posix.dirname(path), header.linkname) : header.linkname));
    }
    if (header.type !== 'file') {
      stream.on('end', () => next());
      stream.resume();
      return;
    }
    onEntry(path, header.size ?? 0, stream as unknown as Readable).then(
      () => next(),
      (e: Error) => {
        stream.resume();
        next(e);
      },
    );
  });
  const source = createReadStream(file);
  try {
    await (gzip ? pipeline(source, createGunzip(), extract) : pipeline(source, extract));
  } catch (e) {
    if (e instanceof BuildError) throw e;
    if ((e as NodeJS.ErrnoException).syscall) throw fsError(e, `cannot read ${file}`);
    throw new BuildError(`${file} is not a readable image archive: ${(e as Error).message}`, 'pass an OCI layout or a `docker save` archive (.tar or .tar.gz)', [], { cause: e });
  }
}

async function readAll(data: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of data) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function scan(file: string, gzip: boolean): Promise<Scan> {
  const out: Scan = { json: new Map(), sizes: new Map(), links: new Map() };
  let kept = 0;
  await walk(file, gzip, out.links, async (path, size, data) => {
    out.sizes.set(path, size);
    if (size > SMALL) return void data.resume();
    const bytes = await readAll(data);
    if (bytes[0] !== 0x7b /* { */ && bytes[0] !== 0x5b /* [ */) return;
    kept += bytes.length;
    if (kept > SMALL_TOTAL) throw new BuildError(`${file} holds more than ${SMALL_TOTAL / 1048576} MiB of JSON documents`, 'is it an image archive?');
    const blob = BLOB_PATH.exec(path);
    if (blob && createHash('sha256').update(bytes).digest('hex') !== blob[1]) {
      throw new BuildError(`${file}: ${path} does not have the digest it is named by`, 'the archive is damaged; export the image again');
    }
    out.json.set(path, bytes);
  });
  return out;
}

/** One image the archive offers, under one name (or none). */
interface Offer {
  name?: string;
  desc: Descriptor;
  /** For classic archives: the layer files, in order. */
  layerPaths?: string[];
  configPath?: string;
}

function json<T>(s: Scan, path: string, file: string): T | undefined {
  const b = s.json.get(path);
  if (!b) return undefined;
  try {
    return JSON.parse(b.toString('utf8')) as T;
  } catch {
    throw new BuildError(`${file}: ${path} is not valid JSON`, 'the archive is damaged; export the image again');
  }
}

/** A name as a full reference, or undefined when it is only a tag (OCI's ref.name often is). */
function fullName(n: string | undefined): string | undefined {
  if (!n || !(n.includes('/') || n.includes(':'))) return undefined;
  return parseImageName(n) ? n : undefined;
}

function offers(s: Scan, file: string): Offer[] {
  const index = json<{ manifests?: Descriptor[] }>(s, 'index.json', file);
  if (index) {
    return (index.manifests ?? []).map((d) => {
      const name = fullName(d.annotations?.['io.containerd.image.name']) ?? fullName(d.annotations?.['org.opencontainers.image.ref.name']);
      return { desc: d, ...(name ? { name } : {}) };
    });
  }
  const classic = json<{ Config: string; RepoTags?: string[] | null; Layers: string[] }[]>(s, 'manifest.json', file);
  if (!classic) throw new BuildError(`${file} is neither an OCI image layout (index.json) nor a docker save archive (manifest.json)`, 'pass an OCI layout or a `docker save` archive (.tar or .tar.gz)');
  return classic.flatMap((m) => {
    const configPath = clean(m.Config);
    const bytes = s.json.get(configPath);
    const desc: Descriptor = { mediaType: 'classic', digest: bytes ? `sha256:${createHash('sha256').update(bytes).digest('hex')}` : configPath, size: bytes?.length ?? 0 };
    const base = { desc, configPath, layerPaths: m.Layers.map(clean) };
    const tags = (m.RepoTags ?? []).filter((t) => parseImageName(t));
    return tags.length > 0 ? tags.map((name) => ({ ...base, name })) : [base];
  });
}

const same = (a: string, b: string) => {
  const x = parseImageName(a);
  const y = parseImageName(b);
  return x !== undefined && y !== undefined && normalizedName(x) === normalizedName(y);
};

/** Which offers to take under which names: all named ones, or those `wanted` names. */
function choose(all: Offer[], wanted: string[], file: string): { offer: Offer; ref: string }[] {
  const named = all.filter((o) => o.name);
  if (wanted.length === 0) {
    if (named.length === 0) throw new BuildError(`${file} names no image`, `say which name to load it as: k8s-img load --archive ${file} NAME:TAG`);
    return named.map((o) => ({ offer: o, ref: o.name! }));
  }
  const distinct = new Set(all.map((o) => o.desc.digest));
  return wanted.map((ref) => {
    const hit = named.find((o) => same(o.name!, ref));
    if (hit) return { offer: hit, ref };
    // One image in the archive: the names given are the names it is loaded as.
    if (distinct.size === 1) return { offer: all[0]!, ref };
    const list = named.map((o) => o.name).join(', ') || `${all.length} unnamed images`;
    throw new BuildError(`${file} holds no image named ${ref} (it holds: ${list})`, 'name one of those, or pass an archive holding one image');
  });
}

/** A classic archive's image as an OCI manifest of its (uncompressed) layers, checked against the config's diff IDs. */
function classicImage(s: Scan, o: Offer, file: string, name: string): { manifest: Buffer; layers: { path: string; digest: string }[]; platform: Platform; config: Buffer } {
  const config = s.json.get(o.configPath!);
  if (!config) throw new BuildError(`${name}: its config ${o.configPath} is missing from ${file}`, 'the archive is damaged; export the image again');
  const parsed = JSON.parse(config.toString('utf8')) as { os?: string; architecture?: string; variant?: string; rootfs?: { diff_ids?: string[] } };
  const diffIds = parsed.rootfs?.diff_ids ?? [];
  if (diffIds.length !== o.layerPaths!.length) throw new BuildError(`${name}: ${o.layerPaths!.length} layers in ${file}, its config lists ${diffIds.length}`, 'the archive is damaged; export the image again');
  const resolve = (p: string) => {
    for (let i = 0; i < 8 && s.links.has(p); i++) p = s.links.get(p)!;
    return p;
  };
  const layers = o.layerPaths!.map((p, i) => ({ path: resolve(p), digest: diffIds[i]! }));
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    config: { mediaType: MEDIA.ociConfig, digest: o.desc.digest, size: config.length },
    layers: layers.map((l) => {
      const size = s.sizes.get(l.path);
      if (size === undefined) throw new BuildError(`${name}: layer ${l.path} is missing from ${file}`, 'the archive is damaged; export the image again');
      return { mediaType: MEDIA.ociLayer, digest: l.digest, size };
    }),
  };
  return {
    manifest: Buffer.from(JSON.stringify(manifest)),
    layers,
    config,
    platform: { os: parsed.os ?? 'linux', architecture: parsed.architecture ?? 'unknown', ...(parsed.variant ? { variant: parsed.variant } : {}) },
  };
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const hexOf = (d: string) => d.replace(/^sha256:/, '');

/**
 * The images of `file` for `platform`, their blobs in `store` (every digest checked):
 * those `wanted` names (an archive of one image is loaded under the names given), or
 * every named image.
 */
export async function readImageArchive(file: string, store: BlobStore, platform: Platform, wanted: string[] = []): Promise<ArchiveImage[]> {
  let gzip: boolean;
  try {
    gzip = isGzip(file);
  } catch (e) {
    throw fsError(e, `cannot read ${file}`);
  }
  const s = await scan(file, gzip);
  const picks = choose(offers(s, file), wanted, file);

  // Blobs the chosen images need: digest → the archive path it is read from.
  const need = new Map<string, string>();
  const small = new Map<string, Buffer>(); // manifests and configs, verified, written from memory
  const images: ArchiveImage[] = [];
  for (const { offer, ref } of picks) {
    if (offer.layerPaths) {
      const c = classicImage(s, offer, file, ref);
      if (c.platform.os !== platform.os || c.platform.architecture !== platform.architecture) {
        throw new BuildError(`${ref} is a ${platformText(c.platform)} image; the nodes run ${platformText(platform)}`, `build or pull it for ${platformText(platform)}`);
      }
      const manifest = sha(c.manifest);
      small.set(manifest, c.manifest).set(offer.desc.digest, c.config);
      for (const l of c.layers) need.set(l.digest, l.path);
      images.push({ ref, id: offer.desc.digest, manifest, mediaType: MEDIA.ociManifest, blobs: [offer.desc.digest, ...c.layers.map((l) => l.digest)], platform: c.platform });
      continue;
    }
    const read = (d: string) => s.json.get(`blobs/sha256/${hexOf(d)}`);
    const r = resolveImage(offer.desc, read, platform, ref);
    small.set(r.manifest.digest, read(r.manifest.digest)!).set(r.config.digest, read(r.config.digest)!);
    for (const l of r.layers) {
      const path = `blobs/sha256/${hexOf(l.digest)}`;
      if (s.sizes.get(path) !== l.size && !store.has(l.digest)) {
        throw new BuildError(
          s.sizes.has(path) ? `${ref}: layer ${l.digest} has ${s.sizes.get(path)} bytes, its manifest says ${l.size}` : `${ref}: layer ${l.digest} is missing from ${file}`,
          'the archive is damaged or holds only part of the image; export it again',
        );
      }
      need.set(l.digest, path);
    }
    images.push({ ref, id: r.config.digest, manifest: r.manifest.digest, mediaType: r.manifest.mediaType, blobs: [r.config.digest, ...r.layers.map((l) => l.digest)], platform: r.platform });
  }

  for (const [digest, bytes] of small) if (!store.has(digest)) await store.add(digest, Readable.from([bytes]), file);
  const missing = new Map([...need].filter(([d]) => !store.has(d)));
  if (missing.size > 0) {
    const byPath = new Map([...missing].map(([d, p]) => [p, d]));
    await walk(file, gzip, undefined, async (path, _size, data) => {
      const digest = byPath.get(path);
      if (!digest || store.has(digest)) return void data.resume();
      await store.add(digest, data.pipe(new PassThrough()), file);
    });
    const still = [...missing.keys()].filter((d) => !store.has(d));
    if (still.length > 0) throw new BuildError(`${file}: layers ${still.join(', ')} were not found`, 'the archive holds only part of the image; export it again');
  }
  return images;
}
