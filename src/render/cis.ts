// kube-bench's inputs for one node: its config.yaml (k8s-img's paths) and the
// benchmark's control files with the edits and variants of the node's CIS plan.
// Pure: the upstream control files come in as text.
import YAML, { isMap, isSeq, type YAMLMap, type YAMLSeq } from 'yaml';
import type { CisNodePlan, CisTarget } from '../plan/cis.js';

export function kubeBenchConfig(p: CisNodePlan): string {
  return `# kube-bench configuration written by k8s-img cis for node ${p.node}: k8s-img's files, not kubeadm's.\n${YAML.stringify(p.config, { lineWidth: 0 })}`;
}

const checksOf = (doc: YAML.Document): YAMLMap[] => {
  const groups = doc.get('groups');
  if (!isSeq(groups)) return [];
  return groups.items.filter(isMap).flatMap((g) => {
    const checks = g.get('checks');
    return isSeq(checks) ? checks.items.filter(isMap) : [];
  });
};

/**
 * The control file of `target` with this node's edits applied and variants added.
 * An edit whose text is not in the check means kube-bench's definitions are not the
 * ones k8s-img was written against: that is a bug here, never silently ignored.
 */
export function cisControls(upstream: string, target: CisTarget, p: CisNodePlan): string {
  const equivalents = p.equivalents.filter((x) => x.target === target && x.edits?.length);
  const variants = p.variants.filter((x) => x.target === target);
  // Untouched files pass as they are: kube-bench's YAML parser is more lenient than ours (etcd.yaml).
  if (equivalents.length === 0 && variants.length === 0) return upstream;
  const doc = YAML.parseDocument(upstream);
  if (doc.errors.length > 0) throw new Error(`kube-bench ${target}: ${doc.errors[0]!.message}`);
  const byId = new Map(checksOf(doc).map((c) => [String(c.get('id')), c]));
  for (const e of equivalents) {
    for (const id of e.ids) {
      const check = byId.get(id);
      if (!check) throw new Error(`kube-bench ${target} has no check ${id}`);
      for (const edit of e.edits ?? []) {
        const text = check.get(edit.field);
        if (typeof text !== 'string' || !text.includes(edit.from)) throw new Error(`kube-bench ${target} ${id}: ${edit.field} does not contain ${JSON.stringify(edit.from)}`);
        check.set(edit.field, text.split(edit.from).join(edit.to));
      }
    }
  }
  for (const v of variants) {
    const of = byId.get(v.of);
    if (!of) throw new Error(`kube-bench ${target} has no check ${v.of}`);
    const copy = of.clone() as YAMLMap;
    copy.set('id', v.id);
    copy.set('text', v.text);
    copy.set('audit', v.audit);
    const items = (copy.getIn(['tests', 'test_items']) as YAMLSeq | undefined)?.items.filter(isMap) ?? [];
    const flags = items.filter((i) => i.get('flag') === v.expect[0]);
    if (flags.length === 0) throw new Error(`kube-bench ${target} ${v.of}: no test expects ${v.expect[0]}`);
    for (const i of flags) i.set('flag', v.expect[1]);
    copy.set('remediation', `chown -R ${v.expect[1]} the files listed by: ${v.audit.split(' |')[0]}\n`);
    for (const g of (doc.get('groups') as YAMLSeq).items.filter(isMap)) {
      const checks = g.get('checks') as YAMLSeq;
      const at = checks.items.indexOf(of);
      if (at >= 0) checks.items.splice(at + 1, 0, copy);
    }
  }
  return doc.toString({ lineWidth: 0 });
}
