// Image references as containerd normalises them (docker.io/library for short names),
// and where the cluster's registry keeps each one. Pure.

export interface ImageName {
  /** The registry host the name points at (docker.io for short names). */
  host: string;
  /** The repository path without the host: what the cluster's registry stores it under. */
  repository: string;
  tag: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;

/**
 * Parses `[host[:port]/]path[:tag]`. The cluster's registry is one mirror for every
 * host, so it stores images by path alone: `registry.k8s.io/pause:3.10` and
 * `docker.io/pause:3.10` would meet at `pause` (`library/pause` for the latter), and
 * k8s-img refuses to put two different images at one place.
 */
export function parseImageName(ref: string): ImageName | undefined {
  if (ref.includes('@')) return undefined; // digests name content, not a place to store it
  const slash = ref.indexOf('/');
  const first = slash < 0 ? '' : ref.slice(0, slash);
  const hasHost = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  const host = hasHost ? first : 'docker.io';
  let rest = hasHost ? ref.slice(slash + 1) : ref;
  let tag = 'latest';
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  if (!TAG.test(tag) || rest.split('/').some((c) => !COMPONENT.test(c))) return undefined;
  const repository = host === 'docker.io' && !rest.includes('/') ? `library/${rest}` : rest;
  return { host, repository, tag };
}

export function normalizedName(n: ImageName): string {
  return `${n.host}/${n.repository}:${n.tag}`;
}
