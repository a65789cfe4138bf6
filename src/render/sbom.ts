// An image's SBOM as an SPDX 2.3 JSON document, from what the build knows exactly: the
// files of our layers (sha1 and sha256), the Go modules each binary was linked from (its
// build info, with go.sum hashes), the sources of C programs, the pinned Debian packages
// of the base. A derived image carries its base's SBOM inside its own. Pure and
// deterministic: one creation time, IDs from content, no random namespace.
import { createHash } from 'node:crypto';
import { goPurl, h1ToSha256, type GoBuildInfo, type GoModule } from '../fetch/buildinfo.js';
import type { RootfsLock } from '../plan/rootfs-lock.js';
import { rfc3339 } from './image-config.js';

/** Where something the image holds came from (not a file of ours). */
export interface SourceRef {
  name: string;
  version: string;
  purl?: string;
  /** sha256 of the downloaded source (a tarball, a .deb). */
  sha256?: string;
  /** go.sum hash of a Go module. */
  h1?: string;
  comment?: string;
}

export type FileOrigin =
  | { kind: 'go'; build: GoBuildInfo }
  /** A C program: its source and the build machine's packages that went into it. */
  | { kind: 'c'; source: SourceRef; toolchain: HostPackage[] }
  /** A file copied from an upstream module or tarball. */
  | { kind: 'copied'; source: SourceRef; from: string }
  /** A file of a Debian package of the base root filesystem. */
  | { kind: 'debian'; package: string }
  | { kind: 'k8s-img' }
  /** Written by a build step run on the image (the e2e images' RUN lines). */
  | { kind: 'run'; step: string };

export interface HostPackage {
  name: string;
  version: string;
  arch: string;
}

export interface SbomFile {
  path: string;
  sha1: string;
  sha256: string;
  type: 'BINARY' | 'TEXT' | 'OTHER';
  origin: FileOrigin;
}

export interface SbomLayer {
  /** Its index among the image's layers (base layers first). */
  index: number;
  description: string;
  files: SbomFile[];
}

export interface SbomInput {
  image: { name: string; version: string; description: string };
  toolVersion: string;
  epoch: number;
  /** The base image's own SBOM, when the base is one of ours. */
  base?: SpdxDocument;
  /** What the base is, said in words (scratch, or an image without an SBOM). */
  baseNote: string;
  layers: SbomLayer[];
  /** A root filesystem image: its one layer is these packages. */
  debian?: { lock: RootfsLock; distro: string; layerIndex: number };
}

export interface SpdxChecksum {
  algorithm: 'SHA1' | 'SHA256';
  checksumValue: string;
}

export interface SpdxPackage {
  SPDXID: string;
  name: string;
  versionInfo?: string;
  supplier?: string;
  downloadLocation: string;
  filesAnalyzed: boolean;
  packageVerificationCode?: { packageVerificationCodeValue: string };
  checksums?: SpdxChecksum[];
  licenseConcluded: string;
  licenseDeclared: string;
  copyrightText: string;
  primaryPackagePurpose?: string;
  sourceInfo?: string;
  comment?: string;
  externalRefs?: { referenceCategory: string; referenceType: string; referenceLocator: string }[];
}

export interface SpdxFile {
  SPDXID: string;
  fileName: string;
  checksums: SpdxChecksum[];
  fileTypes: string[];
  licenseConcluded: string;
  copyrightText: string;
  comment?: string;
}

export interface SpdxRelationship {
  spdxElementId: string;
  relationshipType: string;
  relatedSpdxElement: string;
}

export interface SpdxDocument {
  spdxVersion: 'SPDX-2.3';
  dataLicense: 'CC0-1.0';
  SPDXID: 'SPDXRef-DOCUMENT';
  name: string;
  documentNamespace: string;
  creationInfo: { created: string; creators: string[]; comment?: string };
  packages: SpdxPackage[];
  files: SpdxFile[];
  relationships: SpdxRelationship[];
}

export const IMAGE_ID = 'SPDXRef-Image';
const NONE = 'NOASSERTION';
const hash = (algorithm: 'sha1' | 'sha256', s: string) => createHash(algorithm).update(s).digest('hex');
/** SPDX IDs allow letters, digits, `.` and `-`: a readable part and a hash of the whole name. */
const spdxId = (kind: string, name: string) => `SPDXRef-${kind}-${name.replace(/[^A-Za-z0-9.-]+/g, '-').slice(0, 60)}-${hash('sha256', name).slice(0, 10)}`;

function pkg(p: Pick<SpdxPackage, 'SPDXID' | 'name'> & Partial<SpdxPackage>): SpdxPackage {
  // SPDXID and name first: the order a reader expects (JSON keeps the first position of a key).
  const { SPDXID, name, ...rest } = p;
  return { SPDXID, name, downloadLocation: NONE, filesAnalyzed: false, licenseConcluded: NONE, licenseDeclared: NONE, copyrightText: NONE, ...rest };
}

const purlRef = (locator: string) => [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: locator }];

/** Collects packages, files and relationships without duplicates, in first-added order. */
class Builder {
  readonly packages = new Map<string, SpdxPackage>();
  readonly files = new Map<string, SpdxFile>();
  private readonly rels = new Map<string, SpdxRelationship>();

  addPackage(p: SpdxPackage): string {
    if (!this.packages.has(p.SPDXID)) this.packages.set(p.SPDXID, p);
    return p.SPDXID;
  }

  relate(a: string, type: string, b: string): void {
    this.rels.set(`${a} ${type} ${b}`, { spdxElementId: a, relationshipType: type, relatedSpdxElement: b });
  }

  get relationships(): SpdxRelationship[] {
    return [...this.rels.values()];
  }

  goModule(m: GoModule, comment?: string): string {
    const sha = m.sum ? h1ToSha256(m.sum) : undefined;
    return this.addPackage(
      pkg({
        SPDXID: spdxId('Go', `${m.path}@${m.version}`),
        name: m.path,
        versionInfo: m.version,
        ...(sha ? { checksums: [{ algorithm: 'SHA256', checksumValue: sha }] } : {}),
        externalRefs: purlRef(goPurl(m)),
        comment: [m.sum ? `go.sum: ${m.path} ${m.version} ${m.sum} (the checksum is this h1 hash in hex)` : 'no go.sum hash (the main module of a local build)', comment].filter(Boolean).join('; '),
      }),
    );
  }

  source(s: SourceRef): string {
    if (s.h1) return this.goModule({ path: s.name, version: s.version, sum: s.h1 }, s.comment);
    return this.addPackage(
      pkg({
        SPDXID: spdxId('Source', `${s.name}@${s.version}`),
        name: s.name,
        versionInfo: s.version,
        ...(s.sha256 ? { checksums: [{ algorithm: 'SHA256', checksumValue: s.sha256 }] } : {}),
        ...(s.purl ? { externalRefs: purlRef(s.purl) } : {}),
        ...(s.comment ? { comment: s.comment } : {}),
      }),
    );
  }

  hostPackage(h: HostPackage): string {
    return this.addPackage(
      pkg({
        SPDXID: spdxId('BuildHost', `${h.name}@${h.version}`),
        name: h.name,
        versionInfo: h.version,
        supplier: 'Organization: Debian',
        externalRefs: purlRef(`pkg:deb/debian/${h.name}@${encodeURIComponent(h.version)}?arch=${h.arch}`),
        comment: 'installed on the build machine (its version is recorded; the .deb is not)',
      }),
    );
  }
}

const k8sImg = (toolVersion: string) =>
  pkg({ SPDXID: 'SPDXRef-k8s-img', name: 'k8s-img', versionInfo: toolVersion, supplier: 'Organization: k8s-img', comment: 'scripts and files of k8s-img itself' });

function debianPackages(b: Builder, lock: RootfsLock, distro: string): Map<string, string> {
  const ids = new Map<string, string>();
  for (const p of lock.packages) {
    const purl = `pkg:deb/debian/${p.name}@${encodeURIComponent(p.version)}?arch=${p.arch}&distro=${distro}${p.source !== p.name || p.sourceVersion !== p.version ? `&upstream=${encodeURIComponent(`${p.source}@${p.sourceVersion}`)}` : ''}`;
    ids.set(
      p.name,
      b.addPackage(
        pkg({
          SPDXID: spdxId('Deb', `${p.name}@${p.version}`),
          name: p.name,
          versionInfo: p.version,
          supplier: 'Organization: Debian',
          checksums: [{ algorithm: 'SHA256', checksumValue: p.sha256 }],
          externalRefs: purlRef(purl),
          sourceInfo: `source package ${p.source} ${p.sourceVersion}; the checksum is the .deb's`,
        }),
      ),
    );
  }
  return ids;
}

/** The base SBOM's content, its image package renamed to ours (its layers stay ours too). */
function inherit(b: Builder, base: SpdxDocument): void {
  const baseImage = base.relationships.find((r) => r.spdxElementId === 'SPDXRef-DOCUMENT' && r.relationshipType === 'DESCRIBES')?.relatedSpdxElement ?? IMAGE_ID;
  for (const p of base.packages) if (p.SPDXID !== baseImage) b.addPackage(p);
  for (const f of base.files) b.files.set(f.SPDXID, f);
  for (const r of base.relationships) {
    if (r.spdxElementId === 'SPDXRef-DOCUMENT') continue;
    const map = (id: string) => (id === baseImage ? IMAGE_ID : id);
    b.relate(map(r.spdxElementId), r.relationshipType, map(r.relatedSpdxElement));
  }
}

function originRelations(b: Builder, fileId: string, origin: FileOrigin, debs: Map<string, string>, own: string): string {
  switch (origin.kind) {
    case 'go': {
      const { build } = origin;
      b.relate(fileId, 'GENERATED_FROM', b.goModule(build.main));
      for (const d of build.deps) b.relate(fileId, 'STATIC_LINK', b.goModule(d, d.replaces ? `replaces ${d.replaces.path} ${d.replaces.version}` : undefined));
      const std = b.addPackage(pkg({ SPDXID: spdxId('Go', `stdlib@${build.goVersion}`), name: 'stdlib', versionInfo: build.goVersion, externalRefs: purlRef(`pkg:golang/stdlib@${build.goVersion.replace(/^go/, '')}`), comment: 'the Go standard library and runtime' }));
      b.relate(fileId, 'STATIC_LINK', std);
      const s = build.settings;
      return `Go binary: ${build.path}, ${build.goVersion}, CGO_ENABLED=${s.CGO_ENABLED ?? '?'}, -trimpath=${s['-trimpath'] ?? 'false'}${s['-tags'] ? `, -tags=${s['-tags']}` : ''}`;
    }
    case 'c':
      b.relate(fileId, 'GENERATED_FROM', b.source(origin.source));
      for (const h of origin.toolchain) b.relate(b.hostPackage(h), h.name.startsWith('gcc') || h.name.startsWith('musl-tools') ? 'BUILD_TOOL_OF' : 'STATIC_LINK', fileId);
      return `C program compiled statically from ${origin.source.name} ${origin.source.version}`;
    case 'copied':
      b.relate(fileId, 'GENERATED_FROM', b.source(origin.source));
      return `copied from ${origin.from} of ${origin.source.name} ${origin.source.version}`;
    case 'debian': {
      const deb = debs.get(origin.package);
      if (deb) b.relate(fileId, 'GENERATED_FROM', deb);
      return `from the Debian package ${origin.package} of the base`;
    }
    case 'k8s-img':
      b.relate(fileId, 'GENERATED_FROM', own);
      return 'a file of k8s-img';
    case 'run':
      b.relate(fileId, 'GENERATED_FROM', own);
      return `written by the build step ${origin.step}`;
  }
}

/** SPDX's package verification code: sha1 over the sorted sha1s of the package's files. */
function verificationCode(files: SbomFile[]): string {
  return hash('sha1', files.map((f) => f.sha1).sort().join(''));
}

export function spdxDocument(input: SbomInput): SpdxDocument {
  const b = new Builder();
  const { image } = input;
  if (input.base) inherit(b, input.base);
  const own = b.addPackage(k8sImg(input.toolVersion));
  const debs = new Map<string, string>();
  for (const p of b.packages.values()) if (p.SPDXID.startsWith('SPDXRef-Deb-')) debs.set(p.name, p.SPDXID);
  if (input.debian) {
    const { lock, distro, layerIndex } = input.debian;
    const locked = debianPackages(b, lock, distro);
    for (const [name, id] of locked) debs.set(name, id);
    const layer = b.addPackage(
      pkg({
        SPDXID: `SPDXRef-Layer-${layerIndex}`,
        name: `${image.name} layer ${layerIndex + 1}`,
        comment: `Debian ${lock.suite} (${lock.release.version}) made by mmdebstrap from ${lock.packages.length} packages pinned in the archive of ${lock.release.date}`,
      }),
    );
    for (const id of locked.values()) b.relate(layer, 'CONTAINS', id);
    b.relate(IMAGE_ID, 'CONTAINS', layer);
  }
  for (const layer of input.layers) {
    const layerId = `SPDXRef-Layer-${layer.index}`;
    b.addPackage(
      pkg({
        SPDXID: layerId,
        name: `${image.name} layer ${layer.index + 1}`,
        filesAnalyzed: true,
        packageVerificationCode: { packageVerificationCodeValue: verificationCode(layer.files) },
        comment: layer.description,
      }),
    );
    b.relate(IMAGE_ID, 'CONTAINS', layerId);
    for (const f of layer.files) {
      const fileId = spdxId('File', f.path);
      const comment = originRelations(b, fileId, f.origin, debs, own);
      b.files.set(fileId, {
        SPDXID: fileId,
        fileName: `./${f.path}`,
        checksums: [
          { algorithm: 'SHA1', checksumValue: f.sha1 },
          { algorithm: 'SHA256', checksumValue: f.sha256 },
        ],
        fileTypes: [f.type],
        licenseConcluded: NONE,
        copyrightText: NONE,
        comment,
      });
      b.relate(layerId, 'CONTAINS', fileId);
    }
  }
  const imagePkg = pkg({
    SPDXID: IMAGE_ID,
    name: image.name,
    versionInfo: image.version,
    supplier: 'Organization: k8s-img',
    primaryPackagePurpose: 'CONTAINER',
    comment: `${image.description}; built on ${input.baseNote}`,
  });
  const doc: SpdxDocument = {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: `k8s-img image ${image.name} ${image.version}`,
    documentNamespace: '',
    creationInfo: {
      created: rfc3339(input.epoch),
      creators: [`Tool: k8s-img-${input.toolVersion}`],
      comment: 'Generated offline at build time from the binaries\' Go build info, the sources of C programs and the pinned Debian package list; the creation time is the image\'s fixed build time',
    },
    packages: [imagePkg, ...[...b.packages.values()]],
    files: [...b.files.values()],
    relationships: [{ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: IMAGE_ID }, ...b.relationships],
  };
  // A namespace unique to this content: the same inputs give the same document.
  doc.documentNamespace = `https://github.com/k8s-img/k8s-img/sbom/${image.name}/${image.version}/${hash('sha256', JSON.stringify(doc))}`;
  return doc;
}

export function sbomText(doc: SpdxDocument): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}
