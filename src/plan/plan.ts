// config → ClusterPlan. Pure and deterministic: nodes in config order, services
// in table order, no clock, no randomness, no I/O.
import type { ResolvedConfig } from '../config/defaults.js';
import { findRelease } from '../config/versions.js';
import type { Problem } from '../errors.js';
import { COMPONENTS, POD_IMAGES, PROBE, REGISTRY_PORT, type ComponentDef } from './components.js';
import { clusterFacts, nodeContext, type NodeContext } from './context.js';
import { imageRef } from './images.js';
import { pkiPlan } from './pki.js';
import { IMAGE_IDS, type ClusterPlan, type FileSpec, type ImageId, type NodePlan, type ServicePlan } from './types.js';

export function planCluster(config: ResolvedConfig): ClusterPlan {
  const release = findRelease(config.kubernetesVersion);
  if (!release) throw new Error(`planCluster: unsupported version ${config.kubernetesVersion} (validate first)`);
  const images = Object.fromEntries(IMAGE_IDS.map((id) => [id, imageRef(config.images.prefix, id, release)])) as Record<ImageId, string>;
  const facts = clusterFacts(config, release, images);

  const nodes = config.nodes.map((node): NodePlan => {
    const ctx = nodeContext(facts, node);
    const defs = COMPONENTS.filter((d) => d.runsOn(ctx));
    const present = new Set(defs.map((d) => d.name));
    const services = defs.map((d) => servicePlan(d, ctx, present));
    const needed = new Set<ImageId>(services.map((s) => s.imageId));
    return {
      name: node.name,
      address: node.address,
      roles: [...node.roles],
      services,
      images: IMAGE_IDS.filter((id) => needed.has(id)),
    };
  });

  const secrets = new Set<string>();
  for (const n of nodes) for (const s of n.services) for (const f of s.files) collectSecrets(f, secrets);

  const warnings: Problem[] = [];
  if (!facts.secure) {
    warnings.push({
      path: 'security.mode',
      severity: 'warning',
      message: 'simple mode: anyone who reaches port 6443 or 10250 controls the cluster, etcd is plain HTTP',
      hint: 'use it only to learn, on a closed network; set security.mode: secure (the default) for anything else',
    });
  }

  return {
    cluster: config.name,
    mode: config.security.mode,
    versions: {
      kubernetes: release.kubernetes,
      etcd: release.etcd,
      coredns: release.coredns,
      pause: release.pause,
      containerd: release.containerd,
      runc: release.runc,
      registry: release.registry,
      cniPlugins: release.cniPlugins,
      calico: release.calico,
    },
    networking: {
      podCIDR: config.networking.podCIDR,
      serviceCIDR: config.networking.serviceCIDR,
      kubernetesServiceIP: facts.kubernetesServiceIP,
      clusterDNS: config.networking.clusterDNS,
      dnsDomain: config.networking.dnsDomain,
      nodePortRange: config.networking.nodePortRange,
      calicoBackend: config.networking.calico.backend,
      mtu: config.networking.calico.mtu,
      asNumber: config.networking.calico.asNumber,
    },
    apiServer: { url: facts.apiServerURL, nodeEndpoint: facts.nodeAPIEndpoint, addresses: facts.controlPlanes.map((n) => n.address) },
    etcd: { members: facts.etcdMembers.map((m) => ({ name: m.name, address: m.address })), endpoints: facts.etcdEndpoints },
    registry: {
      nodes: facts.controlPlanes.map((n) => n.name),
      endpoints: facts.controlPlanes.map((n) => `${facts.secure ? 'https' : 'http'}://${n.address}:${REGISTRY_PORT}`),
      images: [...POD_IMAGES],
    },
    images,
    nodes,
    secrets: [...secrets].sort(),
    ...(facts.secure ? { pki: pkiPlan(config) } : {}),
    warnings,
  };
}

function servicePlan(d: ComponentDef, ctx: NodeContext, present: Set<string>): ServicePlan {
  const health = d.health?.(ctx);
  const files = dedupeFiles(d.files?.(ctx) ?? [], d.name);
  return {
    name: d.name,
    summary: d.summary,
    image: ctx.images[d.image],
    imageId: d.image,
    oneshot: d.oneshot ?? false,
    ...(d.entrypoint ? { entrypoint: d.entrypoint } : {}),
    command: d.args(ctx),
    environment: d.env?.(ctx) ?? {},
    ports: d.ports?.(ctx) ?? [],
    volumes: [
      ...(files.length > 0 ? [{ source: `./${d.name}`, target: '/etc/kubernetes', readOnly: true }] : []),
      ...(d.volumes?.(ctx) ?? []),
    ],
    privileges: {
      privileged: d.privileged ?? false,
      pidHost: d.pidHost ?? false,
      ...(d.user ? { user: d.user } : {}),
      // Unprivileged services run with no capabilities at all.
      capDrop: d.privileged ? [] : ['ALL'],
      readOnlyRootfs: !(d.privileged || d.writableRootfs),
      noNewPrivileges: !d.privileged,
      tmpfs: d.tmpfs ?? [],
    },
    ...(health
      ? {
          health: {
            url: health.url,
            test: health.test ?? [PROBE, health.url],
            intervalSeconds: 10,
            timeoutSeconds: 5,
            retries: 3,
            startPeriodSeconds: health.startPeriodSeconds ?? 60,
          },
        }
      : {}),
    dependsOn: (d.dependsOnFor ?? ((_c, deps) => deps))(ctx, d.dependsOn ?? []).filter((dep) => present.has(dep.service)),
    restart: d.oneshot ? (d.name === 'host-prep' ? 'no' : 'on-failure') : 'always',
    files,
  };
}

function dedupeFiles(files: FileSpec[], service: string): FileSpec[] {
  const byPath = new Map<string, FileSpec>();
  for (const f of files) {
    const prev = byPath.get(f.path);
    if (prev && JSON.stringify(prev) !== JSON.stringify(f)) throw new Error(`component ${service}: two different files at ${f.path}`);
    byPath.set(f.path, f);
  }
  return [...byPath.values()];
}

function collectSecrets(f: FileSpec, into: Set<string>): void {
  if ('secret' in f) into.add(f.secret);
  else collectMarkers(f.data, into);
}

/** The `{ $secret: name }` markers anywhere in template data (plain JSON values). */
function collectMarkers(v: unknown, into: Set<string>): void {
  if (Array.isArray(v)) {
    for (const x of v) collectMarkers(x, into);
  } else if (v && typeof v === 'object') {
    if ('$secret' in v) into.add(String((v as { $secret: unknown }).$secret));
    for (const x of Object.values(v)) collectMarkers(x, into);
  }
}
