// Asks the cluster's registry what it serves, as a node's containerd does: the digest
// of a tag's manifest (HEAD /v2/<repository>/manifests/<tag>).
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { MEDIA } from './oci-image.js';

/** The manifest digest `endpoint` serves for repository:tag; undefined when it has none. */
export function servedDigest(endpoint: string, repository: string, tag: string, ca?: string, timeoutMs = 10_000): Promise<string | undefined> {
  const url = new URL(`/v2/${repository}/manifests/${tag}`, endpoint);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'HEAD', timeout: timeoutMs, ...(ca ? { ca } : {}), headers: { Accept: [MEDIA.ociManifest, MEDIA.dockerManifest, MEDIA.ociIndex, MEDIA.dockerList].join(', ') } },
      (res) => {
        res.resume();
        if (res.statusCode === 404) return resolve(undefined);
        if (res.statusCode !== 200) return reject(new Error(`${url.href}: HTTP ${res.statusCode}`));
        resolve(String(res.headers['docker-content-digest'] ?? ''));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${url.href}: no answer in ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end();
  });
}
