// NodePlan → Compose Specification document (compose.yaml). Pure.
import YAML from 'yaml';
import { LABEL, names } from '../plan/names.js';
import type { ClusterPlan, NodePlan, ServicePlan } from '../plan/types.js';

const seconds = (n: number) => `${n}s`;

function service(plan: ClusterPlan, node: NodePlan, s: ServicePlan, configHash: string | undefined): Record<string, unknown> {
  const p = s.privileges;
  const out: Record<string, unknown> = {
    image: s.image,
    container_name: names.service(s.name),
    pull_policy: 'never',
    network_mode: 'host',
    restart: s.restart,
  };
  if (p.pidHost) out.pid = 'host';
  if (p.user) out.user = p.user;
  if (s.entrypoint) out.entrypoint = s.entrypoint;
  if (s.command.length > 0) out.command = s.command;
  if (Object.keys(s.environment).length > 0) out.environment = s.environment;
  if (p.privileged) out.privileged = true;
  if (p.capDrop.length > 0) out.cap_drop = p.capDrop;
  if (p.noNewPrivileges) out.security_opt = ['no-new-privileges:true'];
  if (p.readOnlyRootfs) out.read_only = true;
  if (p.tmpfs.length > 0) out.tmpfs = p.tmpfs;
  if (s.volumes.length > 0) {
    out.volumes = s.volumes.map((v) => ({
      type: 'bind',
      source: v.source,
      target: v.target,
      ...(v.readOnly ? { read_only: true } : {}),
      bind: { create_host_path: true, ...(v.propagation ? { propagation: v.propagation } : {}) },
    }));
  }
  if (s.health) {
    out.healthcheck = {
      test: ['CMD', ...s.health.test],
      interval: seconds(s.health.intervalSeconds),
      timeout: seconds(s.health.timeoutSeconds),
      retries: s.health.retries,
      start_period: seconds(s.health.startPeriodSeconds),
      start_interval: '1s',
    };
  }
  if (s.dependsOn.length > 0) {
    out.depends_on = Object.fromEntries(s.dependsOn.map((d) => [d.service, { condition: d.condition }]));
  }
  out.labels = {
    [LABEL.managed]: 'true',
    [LABEL.cluster]: plan.cluster,
    [LABEL.node]: node.name,
    [LABEL.role]: node.roles.join(','),
    [LABEL.component]: s.name,
    ...(configHash ? { [LABEL.configHash]: configHash } : {}),
  };
  // Logs stay bounded on long-running nodes.
  out.logging = { driver: 'json-file', options: { 'max-size': '50m', 'max-file': '3' } };
  return out;
}

/** The compose document as an object (validated against the Compose Specification in tests). */
export function composeDocument(plan: ClusterPlan, node: NodePlan, configHashes: Record<string, string> = {}): Record<string, unknown> {
  return {
    name: names.project(plan.cluster),
    services: Object.fromEntries(node.services.map((s) => [s.name, service(plan, node, s, s.files.length > 0 ? configHashes[s.name] : undefined)])),
  };
}

export function composeBody(plan: ClusterPlan, node: NodePlan, configHashes: Record<string, string> = {}): string {
  // YAML 1.1 output quotes words like `no` that older parsers read as booleans.
  return YAML.stringify(composeDocument(plan, node, configHashes), { lineWidth: 0, aliasDuplicateObjects: false, version: '1.1' });
}
