// A cluster's entries in the user's kubeconfig: merged in (cluster, user and context of
// one name, made current) and removed again, keeping everything else of the file —
// other contexts, comments, order. Pure: text in, text out.
import YAML, { isMap, isSeq, type Document, type YAMLMap, type YAMLSeq } from 'yaml';
import { HostError } from '../errors.js';

/** The entries of one cluster: what `k8s-img kubeconfig` prints, merged under `name`. */
export interface KubeconfigEntries {
  name: string;
  cluster: Record<string, unknown>;
  user: Record<string, unknown>;
}

const LISTS = [
  ['clusters', 'cluster'],
  ['users', 'user'],
  ['contexts', 'context'],
] as const;

function parse(text: string, file: string): Document {
  const doc = YAML.parseDocument(text);
  if (doc.errors.length > 0) {
    throw new HostError(`${file} is not a kubeconfig k8s-img can edit: ${doc.errors[0]!.message.split('\n')[0]}`, 'repair it (kubectl config view), or leave it alone with --no-kubeconfig-merge');
  }
  if (doc.contents === null) doc.contents = doc.createNode({}) as never;
  if (!isMap(doc.contents)) throw new HostError(`${file} is not a kubeconfig k8s-img can edit: it is not a mapping`, 'repair it, or leave it alone with --no-kubeconfig-merge');
  for (const [list] of LISTS) {
    const v = doc.get(list);
    if (v !== undefined && v !== null && !isSeq(v)) throw new HostError(`${file} is not a kubeconfig k8s-img can edit: ${list} is not a list`, 'repair it, or leave it alone with --no-kubeconfig-merge');
  }
  return doc;
}

const named = (seq: YAMLSeq, name: string) => seq.items.findIndex((i) => isMap(i) && (i as YAMLMap).get('name') === name);

/** The kubeconfig `text` (may be empty) with `e` merged in and made the current context. */
export function mergeKubeconfig(text: string, e: KubeconfigEntries, file = 'kubeconfig'): string {
  const doc = parse(text, file);
  if (!doc.has('apiVersion')) doc.set('apiVersion', 'v1');
  if (!doc.has('kind')) doc.set('kind', 'Config');
  const values = { cluster: e.cluster, user: e.user, context: { cluster: e.name, user: e.name } };
  for (const [list, key] of LISTS) {
    let seq = doc.get(list) as YAMLSeq | null | undefined;
    if (!seq) {
      seq = doc.createNode([]) as YAMLSeq;
      doc.set(list, seq);
    }
    const node = doc.createNode({ name: e.name, [key]: values[key] });
    const at = named(seq, e.name);
    if (at >= 0) seq.items[at] = node;
    else seq.items.push(node);
  }
  doc.set('current-context', e.name);
  return doc.toString();
}

/** `text` without the entries named `name` (and without it as current context); undefined when it had none. */
export function removeFromKubeconfig(text: string, name: string, file = 'kubeconfig'): string | undefined {
  const doc = parse(text, file);
  let found = false;
  for (const [list] of LISTS) {
    const seq = doc.get(list) as YAMLSeq | null | undefined;
    if (!seq) continue;
    const at = named(seq, name);
    if (at >= 0) {
      seq.items.splice(at, 1);
      found = true;
    }
  }
  if (doc.get('current-context') === name) {
    doc.set('current-context', '');
    found = true;
  }
  return found ? doc.toString() : undefined;
}

/** The server a kubeconfig's cluster entry `name` points at. */
export function serverOf(text: string, name: string): string | undefined {
  const doc = YAML.parseDocument(text);
  const seq = doc.errors.length === 0 ? doc.get('clusters') : undefined;
  if (!isSeq(seq)) return undefined;
  const at = named(seq, name);
  const entry = at >= 0 ? (seq.items[at] as YAMLMap) : undefined;
  const server = (entry?.get('cluster') as YAMLMap | undefined)?.get?.('server');
  return typeof server === 'string' ? server : undefined;
}
