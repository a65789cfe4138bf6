// Issue 13: `k8s-img cis`'s pure parts — which kube-bench runs each node gets, the
// edits to kube-bench's control files, and the report built from its JSON.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { parseClusterConfig } from '../../src/config/load.js';
import { failures, formatCisReport, parseRun, type CisReport } from '../../src/pipeline/cis-report.js';
import { cisNodePlan, cisPlan, type CisNodePlan } from '../../src/plan/cis.js';
import { planCluster } from '../../src/plan/plan.js';
import { cisControls } from '../../src/render/cis.js';
import { loadFixture } from '../helpers/fixtures.js';

const BUNDLE = '/opt/k8s-img/bundle';
const tutorial = () => planCluster(loadFixture('valid/tutorial-secure.yaml'));
const cluster = (nodes: string, extra = '') =>
  planCluster(parseClusterConfig(`apiVersion: k8s-img/v1alpha1\nkind: Cluster\nname: t\nnodes:\n${nodes}${extra}`, 't').config);

describe('which kube-bench runs each node gets', () => {
  it("the tutorial's topology: targets by role, checks that cannot apply listed with where they are checked", () => {
    const [sm1, sw1, sw2] = cisPlan(tutorial(), () => BUNDLE);
    assert.deepEqual(sm1!.runs.map((r) => r.target), ['master', 'controlplane', 'node', 'policies']);
    assert.deepEqual(sm1!.runs[0]!.notApplicable, ['1.1.7', '1.1.8', '1.1.11', '1.1.12'].map((id) => ({ id, reason: 'no etcd member on this node: checked on sw1' })));
    // An etcd member without a control plane: the master checks on etcd's files, and etcd's own.
    assert.deepEqual(sw1!.runs.map((r) => [r.target, r.only]), [['master', ['1.1.7', '1.1.8', '1.1.11', '1.1.12', '1.1.19-etcd']], ['etcd', undefined], ['node', undefined]]);
    assert.deepEqual(sw2!.runs.map((r) => r.target), ['node']);
    assert.deepEqual(sw1!.variants.map((v) => [v.id, v.of, v.expect]), [['1.1.19-etcd', '1.1.19', ['root:root', 'etcd:etcd']]]);
    assert.deepEqual(sw2!.variants, []);
  });

  it('a second control plane: the admin kubeconfig checks point at the first', () => {
    const plan = cluster(
      '  - { name: a, address: 10.1.2.3, roles: [control-plane, etcd] }\n  - { name: b, address: 10.1.2.4, roles: [control-plane, worker] }\n',
    );
    const [a, b] = cisPlan(plan, () => BUNDLE);
    assert.deepEqual(a!.runs[0]!.notApplicable, []);
    assert.deepEqual(
      b!.runs[0]!.notApplicable.map((n) => `${n.id} ${n.reason}`),
      [
        ...['1.1.7', '1.1.8', '1.1.11', '1.1.12'].map((id) => `${id} no etcd member on this node: checked on a`),
        ...['1.1.13', '1.1.14'].map((id) => `${id} no administrative kubeconfig on this node: checked on a, whose addons service holds it`),
      ],
    );
    assert.ok(!b!.equivalents.some((e) => e.ids.includes('1.1.13')), 'a check that does not apply is not also listed as checked elsewhere');
  });

  it("every kubeadm path has k8s-img's file in its place", () => {
    const sm1 = cisNodePlan(tutorial(), tutorial().nodes[0]!, BUNDLE);
    const instead = (id: string) => sm1.equivalents.find((e) => e.ids.includes(id))!.instead;
    assert.match(instead('1.1.1'), /^\/opt\/k8s-img\/bundle\/compose\.yaml /);
    assert.match(instead('1.1.13'), /^\/opt\/k8s-img\/bundle\/addons\/kubeconfig /);
    assert.match(instead('4.1.9'), /^\/var\/lib\/k8s-img\/agents\/kubelet\/conf\/kubelet\.yaml$/);
    // The PKI check covers every service's pki/ and the host agents' copies.
    const pki = instead('1.1.21').split(' ');
    for (const d of ['kube-apiserver/pki', 'kube-controller-manager/pki', 'addons/pki', 'kubelet/pki']) assert.ok(pki.includes(`${BUNDLE}/${d}`), d);
    assert.ok(pki.includes('/var/lib/k8s-img/agents/kubelet/conf/pki'));
    const config = sm1.config as { master: { apiserver: { confs: string[] } }; node: { kubelet: { svc: string[]; confs: string[] } } };
    assert.deepEqual(config.master.apiserver.confs, [`${BUNDLE}/compose.yaml`]);
    assert.deepEqual(config.node.kubelet.confs, ['/var/lib/k8s-img/agents/kubelet/conf/kubelet.yaml']);
  });
});

/** A control file in kube-bench's format, written for these tests. */
const CONTROLS = `---
controls:
version: "cis-1.12"
id: 1
text: "Control Plane"
type: "master"
groups:
  - id: 1.1
    text: "Files"
    checks:
      - id: 1.1.19
        text: "PKI ownership"
        audit: "find /etc/kubernetes/pki/ | xargs stat -c %U:%G"
        use_multiple_values: true
        tests:
          test_items:
            - flag: "root:root"
        scored: true
      - id: 1.1.20
        text: "PKI certificate modes"
        audit: "find /etc/kubernetes/pki/ -name '*.crt' | xargs stat -c permissions=%a"
        tests:
          test_items:
            - flag: "permissions"
              compare:
                op: bitmask
                value: "644"
        scored: false
`;

function plainPlan(over: Partial<CisNodePlan>): CisNodePlan {
  return { node: 'n', roles: ['control-plane'], runs: [], config: {}, equivalents: [], variants: [], ...over };
}

describe("kube-bench's control files with k8s-img's edits", () => {
  it('edits the commands of the checks named, and nothing else', () => {
    const p = plainPlan({ equivalents: [{ target: 'master', ids: ['1.1.19'], written: '/etc/kubernetes/pki/', instead: '/b/x/pki', edits: [{ field: 'audit', from: '/etc/kubernetes/pki/', to: '/b/x/pki /b/y/pki' }] }] });
    const doc = YAML.parse(cisControls(CONTROLS, 'master', p));
    const [c19, c20] = doc.groups[0].checks;
    assert.equal(c19.audit, 'find /b/x/pki /b/y/pki | xargs stat -c %U:%G');
    assert.equal(c20.audit, "find /etc/kubernetes/pki/ -name '*.crt' | xargs stat -c permissions=%a");
    assert.equal(c20.tests.test_items[0].compare.value, '644', 'strings stay strings');
  });

  it('adds a variant right after the check it derives from', () => {
    const p = plainPlan({ variants: [{ target: 'master', id: '1.1.19-etcd', of: '1.1.19', text: 'etcd keys', audit: 'find /b/etcd/pki/ | xargs stat -c %U:%G', expect: ['root:root', 'etcd:etcd'] }] });
    const checks = YAML.parse(cisControls(CONTROLS, 'master', p)).groups[0].checks;
    assert.deepEqual(checks.map((c: { id: string }) => String(c.id)), ['1.1.19', '1.1.19-etcd', '1.1.20']);
    assert.equal(checks[1].tests.test_items[0].flag, 'etcd:etcd');
    assert.equal(checks[0].tests.test_items[0].flag, 'root:root');
  });

  it('a definition that no longer matches is an error, never a silent no-op', () => {
    const p = plainPlan({ equivalents: [{ target: 'master', ids: ['1.1.19'], written: 'x', instead: 'y', edits: [{ field: 'audit', from: '/etc/kubernetes/admin.conf', to: 'z' }] }] });
    assert.throws(() => cisControls(CONTROLS, 'master', p), /1\.1\.19: audit does not contain/);
    const missing = plainPlan({ equivalents: [{ target: 'master', ids: ['9.9.9'], written: 'x', instead: 'y', edits: [{ field: 'audit', from: 'a', to: 'b' }] }] });
    assert.throws(() => cisControls(CONTROLS, 'master', missing), /has no check 9\.9\.9/);
  });

  it('a file without edits passes through byte for byte (kube-bench reads YAML ours would refuse)', () => {
    const lenient = 'checks:\n  - text: "a quoted text\n  continued less indented"\n';
    assert.equal(cisControls(lenient, 'etcd', plainPlan({})), lenient);
  });
});

const result = (id: string, status: string, extra: Record<string, unknown> = {}) => ({ test_number: id, test_desc: `check ${id}`, status, scored: true, ...extra });
const kubeBenchJson = (results: object[]) => JSON.stringify({ Controls: [{ id: '1', tests: [{ section: '1.1', results }] }], Totals: {} });

describe("the report from kube-bench's JSON", () => {
  const plan = plainPlan({
    equivalents: [{ target: 'master', ids: ['1.1.1'], written: '/etc/kubernetes/manifests/kube-apiserver.yaml', instead: '/b/compose.yaml' }],
  });
  const run = { target: 'master' as const, notApplicable: [{ id: '1.1.11', reason: 'no etcd member on this node: checked on sw1' }] };

  it('keeps every verdict, marks what k8s-img checked instead and what does not apply', () => {
    const r = parseRun(
      kubeBenchJson([
        result('1.1.1', 'PASS', { actual_value: 'permissions=600' }),
        result('1.1.11', 'INFO', { reason: 'Test marked as skip' }),
        result('1.2.15', 'FAIL', { expected_result: "'--profiling' is equal to 'false'", actual_value: '/usr/local/bin/kube-apiserver --profiling=true' }),
        result('1.2.20', 'WARN', { scored: false, reason: 'Test marked as a manual test' }),
      ]),
      run,
      plan,
    );
    assert.deepEqual([r.pass, r.fail, r.warn, r.notApplicable], [1, 1, 1, 1]);
    assert.deepEqual(r.checks[0]!.equivalent, { written: '/etc/kubernetes/manifests/kube-apiserver.yaml', instead: '/b/compose.yaml' });
    assert.equal(r.checks[1]!.status, 'N/A');
    assert.equal(r.checks[1]!.notApplicable, 'no etcd member on this node: checked on sw1');
    assert.equal(r.checks[1]!.reason, undefined);

    const report: CisReport = { cluster: 'c', mode: 'secure', benchmark: 'cis-1.12', kubeBench: '0.15.1', nodes: [{ node: 'sm1', roles: ['control-plane'], runs: [r] }] };
    assert.deepEqual(failures(report).map((f) => `${f.node} ${f.target} ${f.check.id}`), ['sm1 master 1.2.15']);
    const text = formatCisReport(report);
    assert.match(text, /^ {2}master {2}\s+1 PASS {3}1 FAIL {3}1 WARN {3}1 n\/a$/m);
    assert.match(text, /^ {2}FAIL master 1\.2\.15 check 1\.2\.15\n {7}expected '--profiling' is equal to 'false'; found \/usr\/local\/bin\/kube-apiserver --profiling=true$/m);
    assert.match(text, /^ {2}WARN master 1\.2\.20$/m);
    assert.match(text, /^ {2}n\/a {2}master 1\.1\.11: no etcd member on this node: checked on sw1$/m);
    assert.match(text, /^ {4}master 1\.1\.1 \[PASS\]: \/etc\/kubernetes\/manifests\/kube-apiserver\.yaml → \/b\/compose\.yaml$/m);
    assert.match(text, /^total: master 1 FAIL; 1 WARN/m);
  });

  it('output that is not kube-bench\'s is an error', () => {
    assert.throws(() => parseRun('unable to detect running programs', run, plan), /not JSON/);
    assert.throws(() => parseRun(kubeBenchJson([]), run, plan), /no checks/);
    assert.throws(() => parseRun(kubeBenchJson([result('1.1.1', 'MAYBE')]), run, plan), /unknown status MAYBE/);
  });
});

