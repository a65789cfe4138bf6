// `k8s-img images`: every image a cluster uses (its components, the pod images its
// registry serves, the bases they are built on, the node image of local mode) with its
// digest, size, base and SBOM.
import type { ClusterPlan } from '../plan/types.js';
import type { DockerEngine } from '../runtime/docker.js';
import type { BlobStore, OciImage } from '../runtime/oci-export.js';
import { SbomStore } from '../runtime/sbom-store.js';
import { BASE_LABEL, SBOM_LABEL } from './assemble.js';
import { nodeImageRef } from './build.js';

export interface ImageListing {
  ref: string;
  /** What it is for: component, pod (served by the cluster's registry), base, node (local mode), extra. */
  role: 'component' | 'pod' | 'base' | 'node' | 'extra';
  /** Whether the engine has it; the other fields only then. */
  built: boolean;
  /** The image ID: sha256 of its config, the same on every machine for the same inputs. */
  digest?: string;
  /** The manifest digest the cluster's registry serves it under (known once `save` exported it). */
  manifest?: string;
  size?: number;
  /** What it is built on, without the images.prefix (`scratch` for nothing). */
  base?: string;
  sbom?: { digest: string; path?: string };
}

export async function listImages(plan: ClusterPlan, prefix: string, docker: DockerEngine, extra: OciImage[], blobs: BlobStore, sboms = new SbomStore()): Promise<ImageListing[]> {
  const pods = new Set(plan.registry.images);
  const wanted: { ref: string; role: ImageListing['role'] }[] = [
    ...Object.entries(plan.images).map(([id, ref]) => ({ ref, role: pods.has(id as never) ? ('pod' as const) : ('component' as const) })),
    { ref: nodeImageRef(prefix), role: 'node' },
    ...extra.map((i) => ({ ref: i.ref, role: 'extra' as const })),
  ];
  const out: ImageListing[] = [];
  const seen = new Set<string>();
  const add = async (ref: string, role: ImageListing['role']) => {
    if (seen.has(ref)) return;
    seen.add(ref);
    const info = await docker.imageInfo(ref);
    if (!info) {
      out.push({ ref, role, built: false });
      return;
    }
    const sbom = info.labels[SBOM_LABEL];
    const base = info.labels[BASE_LABEL];
    out.push({
      ref,
      role,
      built: true,
      digest: info.id,
      ...(blobs.manifestOf(info.id) ? { manifest: blobs.manifestOf(info.id)! } : {}),
      size: info.size,
      ...(base ? { base } : {}),
      ...(sbom ? { sbom: { digest: sbom, ...(sboms.has(sbom) ? { path: sboms.path(sbom) } : {}) } } : {}),
    });
    // Bases of ours carry no prefix in the label; they are in the engine under this cluster's.
    if (base && base !== 'scratch') await add(base.startsWith('rootfs-') ? `${prefix}/${base}` : base, 'base');
  };
  for (const w of wanted) await add(w.ref, w.role);
  return out;
}

export function formatImages(list: ImageListing[]): string {
  const rows = list.map((i) => [
    i.ref,
    i.role,
    i.built ? `${((i.size ?? 0) / 1e6).toFixed(1)} MB` : '-',
    i.base ?? (i.built ? '?' : '-'),
    i.digest ?? 'not built',
    i.sbom ? (i.sbom.path ?? `${i.sbom.digest} (not in this cache)`) : i.built ? 'none' : '-',
  ]);
  const head = ['IMAGE', 'ROLE', 'SIZE', 'BASE', 'DIGEST (image ID)', 'SBOM (SPDX 2.3 JSON)'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  return [head, ...rows].map((r) => r.map((v, c) => (c === r.length - 1 ? v : v.padEnd(widths[c]!))).join('  ')).join('\n') + '\n';
}
