// The bare baseline's "systemd units": one Compose service of a rendered node bundle
// turned into two scripts for the node, with nothing hand-copied, so the flags are the
// bundle's by construction:
//   <svc>.run ARGV...  runs ARGV the way the service's container would see the node:
//                      the service's bind mounts and tmpfs in a mount namespace of its
//                      own (systemd's BindPaths=/BindReadOnlyPaths=/TemporaryFileSystem=),
//                      its environment (the image's, then the service's) and its user.
//                      The main process and the health check both run through it.
//   <svc>.unit         the service's process (image entrypoint + Compose command) under
//                      its restart policy (Restart=always / on-failure / no, RestartSec=1),
//                      logging to /var/log/<svc>.log and leaving its exit code in
//                      /run/k8s-img-bare/<svc>.exit (what a one-shot's dependants wait for).
// Not carried over, as a systemd unit of the tutorial would not have them either:
// cap_drop, no-new-privileges, a read-only root, the container's own pid namespace.
import { posix } from 'node:path';
import { NODE_BUNDLE } from '../../src/plan/names.js';
import { shellQuote } from '../../src/runtime/shell.js';

const UNITS_DIR = '/opt/k8s-img-bare/units';
export const EXIT_DIR = '/run/k8s-img-bare';
export const logFile = (svc: string) => `/var/log/${svc}.log`;
export const runScript = (svc: string) => `${UNITS_DIR}/${svc}.run`;
export const unitScript = (svc: string) => `${UNITS_DIR}/${svc}.unit`;

/** The part of a compose.yaml service the bare baseline reads. */
export interface ComposeService {
  image: string;
  entrypoint?: string[];
  command?: string[];
  environment?: Record<string, string>;
  user?: string;
  working_dir?: string;
  restart?: string;
  tmpfs?: string[];
  volumes?: { type: string; source: string; target: string; read_only?: boolean }[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}

/** The part of an image's config a container starts from. */
export interface ImageConfig {
  entrypoint: string[];
  cmd: string[];
  env: string[];
  user: string;
  workdir: string;
}

const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const q = (args: string[]) => args.map(shellQuote).join(' ');

/** What the container would run: Compose's entrypoint replaces the image's (and its command then). */
export function serviceArgv(s: ComposeService, image: ImageConfig): string[] {
  const entrypoint = s.entrypoint ?? image.entrypoint;
  const command = s.command ?? (s.entrypoint ? [] : image.cmd);
  return [...entrypoint, ...command];
}

/** The health check's argv (Compose's `CMD` form, or a shell line). */
export function healthArgv(s: ComposeService): string[] | undefined {
  const t = s.healthcheck?.test;
  if (!t || t.length === 0) return undefined;
  if (t[0] === 'CMD') return t.slice(1);
  if (t[0] === 'CMD-SHELL') return ['/bin/sh', '-c', t.slice(1).join(' ')];
  return t;
}

/** A bind source as the node sees it: `./x` is the node's bundle folder. */
const hostSource = (source: string) => (source.startsWith('./') || source === '.' ? posix.join(NODE_BUNDLE, source) : source);

/** `uid[:gid]` for setpriv; root needs none. Docker takes the uid as the gid when the image names none. */
function userSwitch(user: string): string[] {
  if (!user || user === '0' || user === 'root' || user === '0:0') return [];
  const [uid, gid] = user.split(':');
  if (!/^\d+$/.test(uid!) || (gid !== undefined && !/^\d+$/.test(gid))) throw new Error(`user ${user}: only numeric users are supported`);
  return ['setpriv', `--reuid=${uid}`, `--regid=${gid ?? uid}`, '--clear-groups'];
}

export function runScriptText(node: string, svc: string, s: ComposeService, image: ImageConfig): string {
  const lines = [
    '#!/bin/bash',
    `# ${svc} on ${node} (k8s-img bare baseline): ARGV in the service's mount namespace, environment and user.`,
    `if [ -z "\${K8S_IMG_BARE_NS:-}" ]; then K8S_IMG_BARE_NS=1 exec unshare --mount --propagation slave "$0" "$@"; fi`,
    'set -e',
  ];
  for (const v of s.volumes ?? []) {
    if (v.type !== 'bind') throw new Error(`${node}/${svc}: volume type ${v.type} is not supported`);
    const src = hostSource(v.source);
    const ro = v.read_only ? ` && mount -o remount,bind,ro ${shellQuote(v.target)}` : '';
    if (src === v.target) {
      // A host path at the same place: bound onto itself only so that it is a mount point (as in the container).
      lines.push(`mkdir -p ${shellQuote(src)} && { mountpoint -q ${shellQuote(src)} || mount --bind ${shellQuote(src)} ${shellQuote(src)}; }${ro}`);
    } else {
      lines.push(`{ [ -e ${shellQuote(src)} ] || mkdir -p ${shellQuote(src)}; } && if [ -d ${shellQuote(src)} ]; then mkdir -p ${shellQuote(v.target)}; else mkdir -p ${shellQuote(posix.dirname(v.target))} && touch ${shellQuote(v.target)}; fi && mount --bind ${shellQuote(src)} ${shellQuote(v.target)}${ro}`);
    }
  }
  for (const t of s.tmpfs ?? []) lines.push(`mkdir -p ${shellQuote(t)} && mount -t tmpfs tmpfs ${shellQuote(t)}`);
  lines.push(`cd ${shellQuote(s.working_dir || image.workdir || '/')}`);
  const env = [PATH, 'HOME=/root', ...image.env.filter((e) => !e.startsWith('PATH=')), ...Object.entries(s.environment ?? {}).map(([k, v]) => `${k}=${v}`)];
  lines.push(['exec env -i', q(env), q(userSwitch(s.user ?? image.user)), '"$@"'].filter(Boolean).join(' '));
  return `${lines.join('\n')}\n`;
}

export function unitScriptText(node: string, svc: string, s: ComposeService, image: ImageConfig): string {
  const policy = s.restart ?? 'no';
  const after = policy === 'no' ? 'break' : policy === 'on-failure' ? '[ "$code" = 0 ] && break' : ':';
  return [
    '#!/bin/bash',
    `# ${svc} on ${node} (k8s-img bare baseline): its process under restart: ${policy} (RestartSec=1).`,
    `mkdir -p ${EXIT_DIR}`,
    `rm -f ${EXIT_DIR}/${svc}.exit`,
    'while :; do',
    `  echo "--- k8s-img-bare: start $(date +%T.%N)"`,
    `  ${runScript(svc)} ${q(serviceArgv(s, image))}`,
    '  code=$?',
    `  echo "$code" > ${EXIT_DIR}/${svc}.exit`,
    `  echo "--- k8s-img-bare: exited $code $(date +%T.%N)"`,
    `  ${after}`,
    '  sleep 1',
    `done >>${logFile(svc)} 2>&1 </dev/null`,
    '',
  ].join('\n');
}

/** The order Compose (and a systemd setup) starts a node's services in: every dependency first. */
export function startOrder(services: Record<string, ComposeService>): string[] {
  const out: string[] = [];
  const visit = (name: string, path: string[]) => {
    if (out.includes(name)) return;
    if (path.includes(name)) throw new Error(`dependency cycle: ${[...path, name].join(' → ')}`);
    for (const dep of Object.keys(services[name]?.depends_on ?? {})) visit(dep, [...path, name]);
    out.push(name);
  };
  for (const name of Object.keys(services)) visit(name, []);
  return out;
}
