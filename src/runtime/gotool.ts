// The Go toolchain, behind a small interface: download a module, build packages.
import { readFileSync } from 'node:fs';
import { FetchError } from '../errors.js';
import { run, tail } from './exec.js';

export interface GoEnv {
  /** GOPROXY to use (config binaries.goproxy, else the environment's, else Go's default). */
  proxy?: string;
}

export interface BuildOptions {
  cgo?: boolean;
  onPackage?: (pkg: string) => void;
  what: string;
}

export interface ModuleInfo {
  dir: string;
  goMod: string;
  /** The zip's h1: hash (go.sum), as `go mod download` verified it. */
  sum?: string;
}

export class GoToolchain {
  constructor(private readonly env: GoEnv = {}) {}

  private vars(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      ...process.env,
      ...(this.env.proxy ? { GOPROXY: this.env.proxy } : {}),
      GOWORK: 'off',
      GOFLAGS: '-mod=mod',
      ...extra,
    };
  }

  async version(): Promise<string> {
    const r = await run('go', ['env', 'GOVERSION'], { env: this.vars() }).catch(() => undefined);
    if (!r || r.code !== 0) throw new FetchError('the Go toolchain is not installed', 'run `npm run setup`, or install Go >= 1.26 from your distribution');
    return r.stdout.trim().replace(/^go/, '');
  }

  /** `go mod download` one module; returns its extracted folder and go.mod text. */
  async download(module: string, version: string, cwd: string): Promise<ModuleInfo> {
    const r = await run('go', ['mod', 'download', '-json', `${module}@${version}`], { cwd, env: this.vars() });
    let info: { Dir?: string; GoMod?: string; Sum?: string; Error?: string } = {};
    try {
      info = JSON.parse(r.stdout) as typeof info;
    } catch {
      /* reported below */
    }
    if (r.code !== 0 || !info.Dir || !info.GoMod) {
      throw new FetchError(
        `cannot download ${module}@${version} from the Go module proxy: ${info.Error ?? tail(r.stderr, 3).join(' ')}`,
        'check that GOPROXY (or binaries.goproxy) points at a reachable proxy or mirror that serves this version',
      );
    }
    return { dir: info.Dir, goMod: readFileSync(info.GoMod, 'utf8'), ...(info.Sum ? { sum: info.Sum } : {}) };
  }

  /** `go version -m FILE`: the build info of a Go binary, or undefined for any other file. */
  async buildInfo(file: string): Promise<string | undefined> {
    const r = await run('go', ['version', '-m', file], { env: this.vars() }).catch(() => undefined);
    return r && r.code === 0 ? r.stdout : undefined;
  }

  /** `go build -v`; progress gets one call per compiled package. */
  async build(cwd: string, args: string[], opts: BuildOptions): Promise<void> {
    const r = await run('go', ['build', '-v', ...args], {
      cwd,
      env: this.vars({ CGO_ENABLED: opts.cgo ? '1' : '0' }),
      onLine: (l) => {
        if (/^[\w.\-/]+$/.test(l)) opts.onPackage?.(l);
      },
    });
    if (r.code !== 0) throw buildFailed('go build', opts.what, r.stderr);
  }

  /**
   * `go test -c`: a test binary. `go test` has no -v for packages, so progress comes from
   * -x (each compile command names its package); a failure is compiled again without -x
   * (everything else is cached by then) to report the compiler's own words.
   */
  async testBuild(cwd: string, args: string[], opts: BuildOptions): Promise<void> {
    const env = this.vars({ CGO_ENABLED: opts.cgo ? '1' : '0' });
    const r = await run('go', ['test', '-c', '-x', ...args], {
      cwd,
      env,
      onLine: (l) => {
        const pkg = /\/compile .* -p (\S+)/.exec(l)?.[1];
        if (pkg) opts.onPackage?.(pkg);
      },
    });
    if (r.code === 0) return;
    const again = await run('go', ['test', '-c', ...args], { cwd, env });
    throw buildFailed('go test -c', opts.what, again.code === 0 ? r.stderr : again.stderr);
  }
}

function buildFailed(command: string, what: string, stderr: string): FetchError {
  return new FetchError(`${command} of ${what} failed:\n${tail(stderr, 20).join('\n')}`, 'see the compiler output above; a Go newer than the module declares may be needed (GOTOOLCHAIN)');
}
