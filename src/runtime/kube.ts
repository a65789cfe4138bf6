// A small Kubernetes API client (JSON over HTTPS) for up, status and verify,
// configured from an admin kubeconfig: token or client certificate.
import { existsSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import YAML from 'yaml';
import { ClusterError } from '../errors.js';

export interface KubeCredentials {
  server: string;
  /** Other apiservers of the cluster (HA): tried in turn when the current one does not answer. */
  alternates?: string[];
  ca?: string;
  insecure?: boolean;
  token?: string;
  cert?: string;
  key?: string;
}

export class KubeApiError extends Error {
  constructor(readonly status: number, readonly body: string, message: string) {
    super(message);
  }
}

const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

/** Reads the current context of a kubeconfig (inline data or file references). */
export function credentialsFromKubeconfig(path: string): KubeCredentials {
  if (!existsSync(path)) {
    throw new ClusterError(`no admin kubeconfig at ${path}`, 'start the cluster with `k8s-img up` (local) or write the kubeconfig with `k8s-img generate`');
  }
  const kc = YAML.parse(readFileSync(path, 'utf8')) as {
    'current-context': string;
    contexts: { name: string; context: { cluster: string; user: string } }[];
    clusters: { name: string; cluster: Record<string, string | boolean> }[];
    users: { name: string; user: Record<string, string> }[];
  };
  const ctx = kc.contexts.find((c) => c.name === kc['current-context'])!.context;
  const cluster = kc.clusters.find((c) => c.name === ctx.cluster)!.cluster;
  // k8s-img's admin kubeconfig lists the cluster's other control planes as `<cluster>-via-<node>`.
  const alternates = kc.clusters.filter((c) => c.name.startsWith(`${ctx.cluster}-via-`)).map((c) => String(c.cluster.server));
  const user = kc.users.find((u) => u.name === ctx.user)!.user ?? {};
  const data = (inline?: string, file?: string) => (inline ? b64(inline) : file ? readFileSync(file, 'utf8') : undefined);
  return {
    server: String(cluster.server),
    alternates,
    insecure: cluster['insecure-skip-tls-verify'] === true,
    ca: data(cluster['certificate-authority-data'] as string, cluster['certificate-authority'] as string),
    token: user.token,
    cert: data(user['client-certificate-data'], user['client-certificate']),
    key: data(user['client-key-data'], user['client-key']),
  };
}

export class KubeClient {
  private readonly agent: Agent;
  private readonly servers: URL[];
  private current = 0;

  constructor(private readonly creds: KubeCredentials) {
    this.servers = [...new Set([creds.server, ...(creds.alternates ?? [])])].map((s) => new URL(s));
    this.agent = new Agent({
      keepAlive: true,
      maxSockets: 8,
      ...(creds.ca ? { ca: creds.ca } : {}),
      ...(creds.cert && creds.key ? { cert: creds.cert, key: creds.key } : {}),
      rejectUnauthorized: !creds.insecure,
    });
  }

  /** The apiserver requests go to now. */
  get server(): string {
    return this.servers[this.current]!.origin;
  }

  /**
   * One request; JSON in and out. When the apiserver does not answer at all (refused,
   * unreachable, timed out), the next one of the cluster is tried and kept.
   */
  async raw(method: string, path: string, body?: unknown, opts: { contentType?: string; timeoutMs?: number } = {}): Promise<{ status: number; text: string; warning?: string }> {
    let lastError: unknown;
    for (let tried = 0; tried < this.servers.length; tried++) {
      const at = this.current;
      try {
        return await this.once(this.servers[at]!, method, path, body, opts);
      } catch (e) {
        lastError = e;
        if (this.current === at) this.current = (at + 1) % this.servers.length;
      }
    }
    throw lastError;
  }

  private once(url: URL, method: string, path: string, body: unknown, opts: { contentType?: string; timeoutMs?: number }): Promise<{ status: number; text: string; warning?: string }> {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          hostname: url.hostname,
          port: url.port || 443,
          path,
          method,
          agent: this.agent,
          timeout: opts.timeoutMs ?? 15000,
          headers: {
            Accept: 'application/json',
            ...(payload ? { 'Content-Type': opts.contentType ?? 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}),
            ...(this.creds.token ? { Authorization: `Bearer ${this.creds.token}` } : {}),
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          // Warning headers: deprecations, Pod Security levels a pod would violate.
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text, ...(res.headers.warning ? { warning: String(res.headers.warning) } : {}) }));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`timeout after ${opts.timeoutMs ?? 15000} ms`)));
      req.on('error', reject);
      if (payload) req.write(payload);
      req.end();
    });
  }

  async json<T = Record<string, unknown>>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    const r = await this.raw(method, path, body, contentType ? { contentType } : {});
    if (r.status < 200 || r.status >= 300) {
      let message = r.text.slice(0, 300);
      try {
        message = (JSON.parse(r.text) as { message?: string }).message ?? message;
      } catch {
        /* not JSON */
      }
      throw new KubeApiError(r.status, r.text, `${method} ${path}: HTTP ${r.status}: ${message}`);
    }
    return (r.text ? JSON.parse(r.text) : {}) as T;
  }

  get<T = Record<string, unknown>>(path: string): Promise<T> {
    return this.json<T>('GET', path);
  }

  async getOrUndefined<T = Record<string, unknown>>(path: string): Promise<T | undefined> {
    try {
      return await this.get<T>(path);
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404) return undefined;
      throw e;
    }
  }

  create<T = Record<string, unknown>>(path: string, body: unknown): Promise<T> {
    return this.json<T>('POST', path, body);
  }

  patch<T = Record<string, unknown>>(path: string, body: unknown, type: 'merge' | 'strategic' = 'strategic'): Promise<T> {
    return this.json<T>('PATCH', path, body, type === 'merge' ? 'application/merge-patch+json' : 'application/strategic-merge-patch+json');
  }

  async delete(path: string): Promise<void> {
    const r = await this.raw('DELETE', path);
    if (r.status >= 300 && r.status !== 404) throw new KubeApiError(r.status, r.text, `DELETE ${path}: HTTP ${r.status}`);
  }

  async text(path: string): Promise<string> {
    const r = await this.raw('GET', path);
    if (r.status >= 300) throw new KubeApiError(r.status, r.text, `GET ${path}: HTTP ${r.status}`);
    return r.text;
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Names of the nodes whose Ready condition is True. */
export async function readyNodes(kube: KubeClient): Promise<string[]> {
  const list = await kube.get<{ items: { metadata: { name: string }; status: { conditions?: { type: string; status: string }[] } }[] }>('/api/v1/nodes');
  return list.items.filter((n) => n.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((n) => n.metadata.name);
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, intervalMs = 1000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new ClusterError(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`, 'run `k8s-img status` to see which component is unhealthy');
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
