// What a Go binary says about itself: `go version -m` (the build info the linker embeds:
// Go version, main package, every module with its version and go.sum hash, build
// settings). Pure parsing; runtime/gotool.ts runs the command.

export interface GoModule {
  path: string;
  version: string;
  /** The go.sum hash (`h1:` + base64 SHA-256 of the module's file list). */
  sum?: string;
}

export interface GoBuildInfo {
  goVersion: string;
  /** The main package's import path. */
  path: string;
  main: GoModule;
  /** Dependencies as built: a replaced module is its replacement. */
  deps: (GoModule & { replaces?: GoModule })[];
  settings: Record<string, string>;
}

/** Parses `go version -m FILE`; undefined when the file is not a Go binary. */
export function parseGoVersionM(text: string): GoBuildInfo | undefined {
  const lines = text.split('\n');
  const head = /:\s+(go\S+)\s*$/.exec(lines[0] ?? '');
  if (!head) return undefined;
  const info: GoBuildInfo = { goVersion: head[1]!, path: '', main: { path: '', version: '' }, deps: [], settings: {} };
  for (const raw of lines.slice(1)) {
    const f = raw.replace(/^\t/, '').split('\t');
    const mod = (): GoModule => ({ path: f[1]!, version: f[2]!, ...(f[3] ? { sum: f[3] } : {}) });
    switch (f[0]) {
      case 'path':
        info.path = f[1]!;
        break;
      case 'mod':
        info.main = mod();
        break;
      case 'dep':
        info.deps.push(mod());
        break;
      case '=>': {
        const last = info.deps.at(-1);
        if (last) info.deps[info.deps.length - 1] = { ...mod(), replaces: { path: last.path, version: last.version } };
        break;
      }
      case 'build': {
        const eq = f[1]!.indexOf('=');
        if (eq > 0) info.settings[f[1]!.slice(0, eq)] = f[1]!.slice(eq + 1);
        break;
      }
    }
  }
  return info;
}

/** The sha256 a go.sum `h1:` hash carries, in hex (what SPDX checksums and ko's SBOMs use). */
export function h1ToSha256(sum: string): string | undefined {
  const m = /^h1:([A-Za-z0-9+/]{43}=)$/.exec(sum);
  return m ? Buffer.from(m[1]!, 'base64').toString('hex') : undefined;
}

/** Package URL of a Go module (purl spec: pkg:golang/<namespace>/<name>@<version>). */
export function goPurl(m: GoModule): string {
  return `pkg:golang/${m.path.split('/').map(encodeURIComponent).join('/')}@${encodeURIComponent(m.version)}`;
}
