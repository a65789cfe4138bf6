// Which manifest of an image a node runs: an image index (multi-platform, with
// attestation manifests beside the images) is resolved to the one manifest for the
// node's platform; a plain manifest must be for that platform. Pure: blobs are read
// through `read`, which returns their verified content.
import { BuildError } from '../errors.js';

export const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
} as const;

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

export interface ImageManifest {
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

/** The manifest a node runs, and what it names. */
export interface ResolvedImage {
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
  platform: Platform;
}

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

/** The platform of this machine's Docker images, which is what k8s-img's nodes run. */
export function hostPlatform(arch: string = process.arch): Platform {
  return { os: 'linux', architecture: ARCH[arch] ?? arch };
}

export const platformText = (p: Platform) => `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;

const isIndex = (t: string | undefined) => t === MEDIA.ociIndex || t === MEDIA.dockerList;
/** buildx stores provenance and SBOMs as manifests of platform unknown/unknown, marked so. */
const isAttestation = (d: Descriptor) => d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' || d.platform?.os === 'unknown';

function matches(have: Platform | undefined, want: Platform): boolean {
  if (!have) return false;
  if (have.os !== want.os || have.architecture !== want.architecture) return false;
  // arm64's only variant is v8; otherwise a variant asked for must be the one given.
  const v = (p: Platform) => (p.architecture === 'arm64' && p.variant === 'v8' ? undefined : p.variant);
  return v(want) === undefined || v(have) === v(want);
}

function parseJson<T>(bytes: Buffer, what: string, name: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch {
    throw new BuildError(`${name}: the ${what} is not JSON`, 'the archive is damaged; export the image again');
  }
}

/**
 * Resolves `top` (a manifest or an index) to the manifest for `platform`, checking every
 * descriptor's size against the content `read` returns. `name` is for messages.
 */
export function resolveImage(top: Descriptor, read: (digest: string) => Buffer | undefined, platform: Platform, name: string): ResolvedImage {
  const fetch = (d: Descriptor, what: string): Buffer => {
    const bytes = read(d.digest);
    if (!bytes) throw new BuildError(`${name}: the ${what} ${d.digest} is missing`, 'the archive does not hold the whole image; export it again (for docker: docker save NAME)');
    if (bytes.length !== d.size) throw new BuildError(`${name}: the ${what} ${d.digest} has ${bytes.length} bytes, its descriptor says ${d.size}`, 'the archive is damaged; export the image again');
    return bytes;
  };
  let desc = top;
  for (let depth = 0; isIndex(desc.mediaType); depth++) {
    if (depth > 4) throw new BuildError(`${name}: image indexes nested too deep`, 'export a single-platform image');
    const index = parseJson<{ manifests?: Descriptor[] }>(fetch(desc, 'image index'), 'image index', name);
    const images = (index.manifests ?? []).filter((m) => !isAttestation(m));
    const chosen = images.find((m) => matches(m.platform, platform));
    if (!chosen) {
      const offered = images.map((m) => (m.platform ? platformText(m.platform) : 'no platform')).join(', ') || 'none';
      throw new BuildError(`${name} has no image for ${platformText(platform)} (the nodes' platform); it holds: ${offered}`, `build or pull it for ${platformText(platform)}`);
    }
    desc = chosen;
  }
  if (desc.mediaType !== MEDIA.ociManifest && desc.mediaType !== MEDIA.dockerManifest) {
    throw new BuildError(`${name}: unsupported manifest type ${desc.mediaType}`, 'k8s-img loads OCI and Docker (schema 2) images');
  }
  const manifest = parseJson<ImageManifest>(fetch(desc, 'manifest'), 'manifest', name);
  if (!manifest.config?.digest || !Array.isArray(manifest.layers)) throw new BuildError(`${name}: the manifest names no config or layers`, 'the archive is damaged; export the image again');
  const config = parseJson<{ os?: string; architecture?: string; variant?: string }>(fetch(manifest.config, 'image config'), 'image config', name);
  const own: Platform = { os: config.os ?? platform.os, architecture: config.architecture ?? platform.architecture, ...(config.variant ? { variant: config.variant } : {}) };
  if (!matches(own, platform)) {
    throw new BuildError(`${name} is a ${platformText(own)} image; the nodes run ${platformText(platform)}`, `build or pull it for ${platformText(platform)} (e.g. docker build --platform ${platformText(platform)})`);
  }
  return { manifest: { mediaType: desc.mediaType, digest: desc.digest, size: desc.size }, config: manifest.config, layers: manifest.layers, platform: own };
}
