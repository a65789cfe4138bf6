// Image archives made in tests, byte for byte in the layouts real tools write: an OCI
// image layout (index.json, oci-layout, blobs/sha256/...) as buildx's `-o type=oci`
// and `docker save` (engine >= 25) write it, and the classic `docker save` layout
// (manifest.json, <id>.json, <id>/layer.tar).
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { MEDIA, type Descriptor, type Platform } from '../../src/runtime/oci-image.js';

export const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const hex = (d: string) => d.slice('sha256:'.length);

/** An uncompressed layer holding one file. */
export async function layerTar(name: string, content: string): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name, mode: 0o644, mtime: new Date(0) }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function tarOf(entries: { name: string; data?: Buffer; link?: string }[]): Promise<Buffer> {
  const pack = tar.pack();
  const out: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) out.push(c as Buffer);
  })();
  for (const e of entries) {
    if (e.link) pack.entry({ name: e.name, type: 'symlink', linkname: e.link, mtime: new Date(0) });
    else pack.entry({ name: e.name, mode: 0o644, mtime: new Date(0) }, e.data!);
  }
  pack.finalize();
  await done;
  return Buffer.concat(out);
}

/** A builder of OCI layouts: blobs by digest, descriptors to put into indexes. */
export class Layout {
  readonly blobs = new Map<string, Buffer>();

  blob(data: Buffer, mediaType: string, extra: Partial<Descriptor> = {}): Descriptor {
    const digest = digestOf(data);
    this.blobs.set(digest, data);
    return { mediaType, digest, size: data.length, ...extra };
  }

  json(value: unknown, mediaType: string, extra: Partial<Descriptor> = {}): Descriptor {
    return this.blob(Buffer.from(JSON.stringify(value)), mediaType, extra);
  }

  /** An image of `layers` for `platform`: its manifest's descriptor. */
  image(platform: Platform, layers: Buffer[]): Descriptor {
    const config = this.json({ ...platform, rootfs: { type: 'layers', diff_ids: layers.map(digestOf) }, config: {} }, MEDIA.ociConfig);
    return this.json({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config, layers: layers.map((l) => this.blob(l, MEDIA.ociLayer)) }, MEDIA.ociManifest, { platform });
  }

  /** buildx's attestation manifest for `subject`. */
  attestation(subject: Descriptor): Descriptor {
    const statement = this.blob(Buffer.from('{"_type":"https://in-toto.io/Statement/v0.1"}'), 'application/vnd.in-toto+json');
    const config = this.json({ architecture: 'unknown', os: 'unknown', config: {}, rootfs: { type: 'layers', diff_ids: [statement.digest] } }, MEDIA.ociConfig);
    return this.json({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config, layers: [statement] }, MEDIA.ociManifest, {
      platform: { os: 'unknown', architecture: 'unknown' },
      annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': subject.digest },
    });
  }

  index(manifests: Descriptor[], extra: Partial<Descriptor> = {}): Descriptor {
    return this.json({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests }, MEDIA.ociIndex, extra);
  }

  /** The layout as a tar: index.json lists `top` (each with its annotations). */
  async tar(top: Descriptor[], opts: { skip?: string[]; damage?: string } = {}): Promise<Buffer> {
    const entries = [
      { name: 'oci-layout', data: Buffer.from('{"imageLayoutVersion":"1.0.0"}') },
      ...[...this.blobs]
        .filter(([d]) => !opts.skip?.includes(d))
        .map(([d, data]) => ({ name: `blobs/sha256/${hex(d)}`, data: d === opts.damage ? Buffer.concat([data.subarray(0, data.length - 1), Buffer.from('!')]) : data })),
      { name: 'index.json', data: Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: top })) },
    ];
    return tarOf(entries);
  }
}

export const named = (d: Descriptor, name: string): Descriptor => ({ ...d, annotations: { ...d.annotations, 'io.containerd.image.name': name } });

/** A classic `docker save` archive: one entry per image, shared layers as symbolic links. */
export async function classicArchive(images: { tags: string[]; layers: Buffer[]; architecture?: string }[]): Promise<Buffer> {
  const entries: { name: string; data?: Buffer; link?: string }[] = [];
  const placed = new Map<string, string>();
  const manifest = images.map((img) => {
    const config = Buffer.from(JSON.stringify({ architecture: img.architecture ?? 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: img.layers.map(digestOf) } }));
    const configName = `${hex(digestOf(config))}.json`;
    entries.push({ name: configName, data: config });
    const layers = img.layers.map((l, i) => {
      const id = hex(digestOf(Buffer.from(`${configName}/${i}`)));
      const at = placed.get(digestOf(l));
      if (at) entries.push({ name: `${id}/layer.tar`, link: `../${at}/layer.tar` });
      else {
        entries.push({ name: `${id}/layer.tar`, data: l });
        placed.set(digestOf(l), id);
      }
      return `${id}/layer.tar`;
    });
    return { Config: configName, RepoTags: img.tags, Layers: layers };
  });
  entries.push({ name: 'manifest.json', data: Buffer.from(JSON.stringify(manifest)) });
  return tarOf(entries);
}

export function writeArchive(path: string, data: Buffer, gzip = false): string {
  writeFileSync(path, gzip ? gzipSync(data) : data);
  return path;
}
