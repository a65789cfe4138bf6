// kube-bench's JSON → k8s-img's CIS report, and the report as text. Each check keeps
// kube-bench's verdict; k8s-img adds what it checked instead of a kubeadm path, and
// why a check does not apply on a node. Pure.
import type { CisNodePlan, CisRun, CisTarget } from '../plan/cis.js';

export type CisStatus = 'PASS' | 'FAIL' | 'WARN' | 'INFO' | 'N/A';

export interface CisCheck {
  id: string;
  text: string;
  status: CisStatus;
  scored: boolean;
  expected?: string;
  actual?: string;
  /** Why kube-bench could not evaluate it (a manual check, an audit command that failed). */
  reason?: string;
  remediation?: string;
  /** The check looks at a kubeadm path; k8s-img checked its own file instead. */
  equivalent?: { written: string; instead: string };
  /** Derived by k8s-img from this upstream check (a file kubeadm does not have). */
  variantOf?: string;
  /** Why it does not apply on this node. */
  notApplicable?: string;
}

export interface CisRunResult {
  target: CisTarget;
  only?: string[];
  pass: number;
  fail: number;
  warn: number;
  notApplicable: number;
  checks: CisCheck[];
}

export interface CisNodeResult {
  node: string;
  roles: string[];
  runs: CisRunResult[];
}

export interface CisReport {
  cluster: string;
  mode: string;
  benchmark: string;
  kubeBench: string;
  nodes: CisNodeResult[];
}

/** The part of kube-bench's --json output the report reads. */
interface KubeBenchJson {
  Controls?: {
    tests?: {
      results?: {
        test_number: string;
        test_desc: string;
        status: string;
        scored: boolean;
        actual_value?: string;
        expected_result?: string;
        reason?: string;
        remediation?: string;
      }[];
    }[];
  }[];
}

const STATUSES = new Set(['PASS', 'FAIL', 'WARN', 'INFO']);

/** One run's results from kube-bench's JSON (throws on output that is not kube-bench's). */
export function parseRun(json: string, run: CisRun, plan: CisNodePlan): CisRunResult {
  let data: KubeBenchJson;
  try {
    data = JSON.parse(json) as KubeBenchJson;
  } catch {
    throw new Error(`not JSON: ${json.trim().slice(0, 200)}`);
  }
  const na = new Map(run.notApplicable.map((n) => [n.id, n.reason]));
  const equivalents = new Map(plan.equivalents.filter((e) => e.target === run.target).flatMap((e) => e.ids.map((id) => [id, { written: e.written, instead: e.instead }] as const)));
  const variants = new Map(plan.variants.filter((v) => v.target === run.target).map((v) => [v.id, v.of]));
  const checks: CisCheck[] = [];
  for (const control of data.Controls ?? []) {
    for (const group of control.tests ?? []) {
      for (const r of group.results ?? []) {
        if (!STATUSES.has(r.status)) throw new Error(`check ${r.test_number}: unknown status ${r.status}`);
        const reason = na.get(r.test_number);
        const text = (s: string | undefined) => (s && s.trim() ? s.trim() : undefined);
        checks.push({
          id: r.test_number,
          text: r.test_desc,
          status: reason ? 'N/A' : (r.status as CisStatus),
          scored: r.scored,
          ...(text(r.expected_result) ? { expected: text(r.expected_result) } : {}),
          ...(text(r.actual_value) ? { actual: text(r.actual_value) } : {}),
          ...(text(r.reason) && !reason ? { reason: text(r.reason) } : {}),
          ...(text(r.remediation) ? { remediation: text(r.remediation) } : {}),
          ...(equivalents.has(r.test_number) ? { equivalent: equivalents.get(r.test_number)! } : {}),
          ...(variants.has(r.test_number) ? { variantOf: variants.get(r.test_number)! } : {}),
          ...(reason ? { notApplicable: reason } : {}),
        });
      }
    }
  }
  if (checks.length === 0) throw new Error('kube-bench reported no checks');
  const count = (s: CisStatus) => checks.filter((c) => c.status === s).length;
  return { target: run.target, ...(run.only ? { only: run.only } : {}), pass: count('PASS'), fail: count('FAIL'), warn: count('WARN'), notApplicable: count('N/A'), checks };
}

export const failures = (r: CisReport) => r.nodes.flatMap((n) => n.runs.flatMap((run) => run.checks.filter((c) => c.status === 'FAIL').map((c) => ({ node: n.node, target: run.target, check: c }))));

const runName = (r: CisRunResult) => (r.only ? `${r.target} (${r.only.length} checks)` : r.target);
const oneLine = (s: string, max = 160) => {
  const l = s.replace(/\s+/g, ' ').trim();
  return l.length > max ? `${l.slice(0, max - 1)}…` : l;
};

export function formatCisReport(r: CisReport): string {
  const out = [`CIS Kubernetes Benchmark ${r.benchmark} (kube-bench v${r.kubeBench}) on cluster ${r.cluster}, ${r.mode} mode`, ''];
  for (const n of r.nodes) {
    out.push(`node ${n.node} [${n.roles.join(', ')}]`);
    const width = Math.max(...n.runs.map((x) => runName(x).length));
    for (const run of n.runs) {
      out.push(`  ${runName(run).padEnd(width)}  ${String(run.pass).padStart(3)} PASS ${String(run.fail).padStart(3)} FAIL ${String(run.warn).padStart(3)} WARN${run.notApplicable ? ` ${String(run.notApplicable).padStart(3)} n/a` : ''}`);
    }
    for (const run of n.runs) {
      for (const c of run.checks.filter((x) => x.status === 'FAIL')) {
        out.push(`  FAIL ${run.target} ${c.id} ${c.text}`);
        if (c.expected || c.actual) out.push(`       expected ${oneLine(c.expected ?? '?', 100)}; found ${oneLine(c.actual ?? c.reason ?? 'nothing', 100)}`);
        if (c.equivalent) out.push(`       (checked ${c.equivalent.instead} instead of ${c.equivalent.written})`);
      }
    }
    for (const run of n.runs) {
      const warned = run.checks.filter((x) => x.status === 'WARN').map((c) => c.id);
      if (warned.length > 0) out.push(`  WARN ${run.target} ${warned.join(' ')}`);
    }
    const byReason = new Map<string, string[]>();
    for (const run of n.runs) for (const c of run.checks.filter((x) => x.notApplicable)) byReason.set(`${run.target}: ${c.notApplicable}`, [...(byReason.get(`${run.target}: ${c.notApplicable}`) ?? []), c.id]);
    for (const [why, ids] of byReason) out.push(`  n/a  ${why.split(': ')[0]} ${ids.join(' ')}: ${why.slice(why.indexOf(': ') + 2)}`);
    const instead = n.runs.flatMap((run) => run.checks.filter((c) => c.equivalent && c.status !== 'N/A').map((c) => ({ run, c })));
    if (instead.length > 0) {
      out.push('  checked on k8s-img\'s files instead of kubeadm\'s (what the definition names → what was checked):');
      const groups = new Map<string, { ids: string[]; statuses: string[]; written: string; instead: string; target: string }>();
      for (const { run, c } of instead) {
        const key = `${run.target}\0${c.equivalent!.written}\0${c.equivalent!.instead}`;
        const g = groups.get(key) ?? { ids: [], statuses: [], written: c.equivalent!.written, instead: c.equivalent!.instead, target: run.target };
        g.ids.push(c.id);
        g.statuses.push(c.status);
        groups.set(key, g);
      }
      for (const g of groups.values()) out.push(`    ${g.target} ${g.ids.join(' ')} [${g.statuses.join(' ')}]: ${g.written} → ${g.instead}`);
    }
    for (const run of n.runs) {
      for (const c of run.checks.filter((x) => x.variantOf)) out.push(`  k8s-img's variant of ${c.variantOf}: ${run.target} ${c.id} [${c.status}] ${c.text}`);
    }
    out.push('');
  }
  const byTarget = new Map<string, number>();
  for (const n of r.nodes) for (const run of n.runs) byTarget.set(run.target, (byTarget.get(run.target) ?? 0) + run.fail);
  const warns = r.nodes.reduce((a, n) => a + n.runs.reduce((b, run) => b + run.warn, 0), 0);
  out.push(`total: ${[...byTarget].map(([t, f]) => `${t} ${f} FAIL`).join(', ')}; ${warns} WARN (manual checks and recommendations: \`-o DIR\` keeps each one's remediation)`);
  return `${out.join('\n')}\n`;
}
