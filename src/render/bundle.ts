// ClusterPlan + templates + secrets → the files of every node bundle. Pure:
// the same inputs give byte-identical output.
import { createHash } from 'node:crypto';
import type { ClusterPlan, FileSpec, NodePlan } from '../plan/types.js';
import { composeBody } from './compose.js';
import { TemplateRenderer, type TemplateSet } from './templates.js';

export interface BundleFile {
  path: string; // relative to the node's bundle folder
  mode: number;
  content: string;
}

export type Secrets = Readonly<Record<string, string>>;

export function renderBundles(plan: ClusterPlan, templates: TemplateSet, secrets: Secrets): Map<string, BundleFile[]> {
  const missing = plan.secrets.filter((s) => secrets[s] === undefined);
  if (missing.length > 0) throw new Error(`render: secrets not supplied: ${missing.join(', ')}`);
  const r = new TemplateRenderer(templates);
  const rendered = new Map<string, string>();
  return new Map(plan.nodes.map((n) => [n.name, renderNode(plan, n, r, secrets, rendered)]));
}

/** `rendered`: file contents by template and data, for this render only (at 1 000 nodes two files in three repeat another's). */
function renderNode(plan: ClusterPlan, node: NodePlan, r: TemplateRenderer, secrets: Secrets, rendered: Map<string, string>): BundleFile[] {
  const files: BundleFile[] = [];
  const hashes: Record<string, string> = {};
  for (const s of node.services) {
    const h = createHash('sha256');
    for (const f of s.files) {
      const content = fileContent(f, r, secrets, rendered);
      files.push({ path: `${s.name}/${f.path}`, mode: f.mode, content });
      h.update(`${f.path}\0${f.mode}\0${content}\0`);
    }
    hashes[s.name] = h.digest('hex').slice(0, 16);
  }
  files.push(
    {
      path: 'compose.yaml',
      // It holds every service's flags: like kubeadm's static-pod manifests, root's only (CIS 1.1.1, 4.1.1).
      mode: 0o600,
      content: r.render('compose.yaml', {
        node: node.name,
        roles: node.roles.join(', '),
        cluster: plan.cluster,
        mode: plan.mode,
        services: node.services.map((s) => ({ name: s.name.padEnd(24), summary: s.summary })),
        body: composeBody(plan, node, hashes),
      }),
    },
  );
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function fileContent(f: FileSpec, r: TemplateRenderer, secrets: Secrets, rendered: Map<string, string>): string {
  if ('secret' in f) return secrets[f.secret]!;
  // The data still holds { $secret } markers, and the secrets are fixed for the render: a fit key.
  const key = `${f.template}\0${JSON.stringify(f.data)}`;
  let content = rendered.get(key);
  if (content === undefined) rendered.set(key, (content = r.render(f.template, resolveSecrets(f.data, secrets) as object)));
  return content;
}

/** Replaces `{ $secret: name }` markers in template data with the secret's text. */
function resolveSecrets(v: unknown, secrets: Secrets): unknown {
  if (Array.isArray(v)) return v.map((x) => resolveSecrets(x, secrets));
  if (v && typeof v === 'object') {
    if ('$secret' in v) return secrets[String((v as { $secret: unknown }).$secret)];
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveSecrets(x, secrets)]));
  }
  return v;
}
