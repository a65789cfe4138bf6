// Imports the tutorial's config.properties files (one per node) into one cluster config.
// Unlike the tutorial's gen-config.sh, a missing or empty value is an error.
import type { Problem } from '../errors.js';
import { ConfigError } from '../errors.js';
import { parseIPv4, specialUse } from './net.js';
import { ABSOLUTE_PATH, quote } from './patterns.js';
import type { ClusterConfig, NodeConfig, Role } from './schema.js';
import { API_VERSION } from './schema.js';

const KEYS = ['BIN_PATH', 'NODE_IP', 'ETCD_ENDPOINTS', 'MASTER_IP'] as const;

export function parseProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('!')) continue;
    const m = /^([^=:\s]+)\s*[=:]\s*(.*)$/.exec(line);
    if (m && m[1] !== '__proto__') out[m[1]!] = m[2]!.replace(/^["']|["']$/g, '').trim();
  }
  return out;
}

export interface PropertiesFile {
  name: string; // shown in messages
  text: string;
}

export function importProperties(files: PropertiesFile[], clusterName = 'imported'): ClusterConfig {
  const problems: Problem[] = [];
  const push = (path: string, message: string, hint: string) => problems.push({ path, message, hint, severity: 'error' });
  const parsed = files.map((f) => ({ file: f.name, props: parseProperties(f.text) }));

  for (const { file, props } of parsed) {
    for (const k of KEYS) if (!props[k]) push(`${file}: ${k}`, 'is missing or empty', `set ${k}=... as in the tutorial's config.properties`);
    const ip = props.NODE_IP ? parseIPv4(props.NODE_IP) : undefined;
    if (props.NODE_IP && ip === undefined) push(`${file}: NODE_IP`, `${quote(props.NODE_IP)} is not an IPv4 address`, 'e.g. NODE_IP=192.168.232.206');
    else if (ip !== undefined && specialUse(ip)) push(`${file}: NODE_IP`, `${props.NODE_IP} is ${specialUse(ip)}: no node can have it`, 'e.g. NODE_IP=192.168.232.206');
    if (props.BIN_PATH && !ABSOLUTE_PATH.test(props.BIN_PATH)) push(`${file}: BIN_PATH`, `${quote(props.BIN_PATH)} is not an absolute path of plain characters`, 'e.g. BIN_PATH=/opt/kubernetes/bin (letters, digits and . _ - + /)');
  }
  const uniq = (k: (typeof KEYS)[number]) => [...new Set(parsed.map((p) => p.props[k]).filter(Boolean))];
  const masters = uniq('MASTER_IP');
  const endpoints = uniq('ETCD_ENDPOINTS');
  const binPaths = uniq('BIN_PATH');
  if (masters.length > 1) push('MASTER_IP', `the files disagree: ${masters.join(' vs ')}`, 'every node must name the same master');
  if (endpoints.length > 1) push('ETCD_ENDPOINTS', `the files disagree: ${endpoints.join(' vs ')}`, 'every node must name the same etcd endpoints');
  if (binPaths.length > 1) push('BIN_PATH', `the files disagree: ${binPaths.join(' vs ')}`, 'use one binaries folder on every node');

  const etcdURLs = (endpoints[0] ?? '').split(',').map((u) => u.trim()).filter(Boolean);
  const etcdHosts = etcdURLs.map((u) => /^(https?):\/\/([^:/]+)/.exec(u));
  etcdHosts.forEach((m, i) => {
    if (!m) push('ETCD_ENDPOINTS', `${quote(etcdURLs[i]!)} is not an http(s)://host:port URL`, 'e.g. ETCD_ENDPOINTS=http://192.168.232.207:2379');
  });
  const nodeIPs = parsed.map((p) => p.props.NODE_IP);
  for (const m of etcdHosts) {
    if (m && !nodeIPs.includes(m[2])) push('ETCD_ENDPOINTS', `etcd host ${m[2]} is none of the imported nodes`, 'also import the config.properties of the etcd node');
  }
  if (masters[0] && !nodeIPs.includes(masters[0])) push('MASTER_IP', `${masters[0]} is none of the imported nodes`, 'also import the master\'s config.properties');
  const seen = new Set<string>();
  for (const { file, props } of parsed) {
    if (props.NODE_IP && seen.has(props.NODE_IP)) push(`${file}: NODE_IP`, `${props.NODE_IP} appears in two files`, 'import each node once');
    if (props.NODE_IP) seen.add(props.NODE_IP);
  }
  if (problems.length > 0) throw new ConfigError(problems, 'config.properties import');

  let masterCount = 0;
  let workerCount = 0;
  const nodes: NodeConfig[] = parsed.map(({ props }) => {
    const ip = props.NODE_IP!;
    const roles: Role[] = [];
    const isMaster = ip === masters[0];
    if (isMaster) roles.push('control-plane');
    else roles.push('worker');
    if (etcdHosts.some((m) => m?.[2] === ip)) roles.push('etcd');
    const name = isMaster ? `master-${++masterCount}` : `worker-${++workerCount}`;
    return { name, address: ip, roles };
  });
  const secure = etcdHosts.every((m) => m?.[1] === 'https');
  return {
    apiVersion: API_VERSION,
    kind: 'Cluster',
    name: clusterName,
    nodes,
    security: { mode: secure ? 'secure' : 'simple' },
    binaries: { source: 'dir', dir: binPaths[0]! },
  };
}
