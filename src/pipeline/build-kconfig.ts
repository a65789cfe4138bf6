// A Kconfig C program (busybox) from its release tarball: download, check, configure, make.
import { cpus } from 'node:os';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { KconfigRecipe } from '../fetch/recipes.js';
import { FetchError } from '../errors.js';
import { sha256File } from '../runtime/bincache.js';
import { downloadTo } from '../runtime/download.js';
import { run, tail } from '../runtime/exec.js';
import { debianMirror } from '../runtime/paths.js';

/** Builds in `work` (emptied first) and leaves the output in `staging`. */
export async function buildKconfig(r: KconfigRecipe<string>, work: string, staging: string, update: (d: string) => void): Promise<void> {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const url = `${debianMirror().replace(/\/+$/, '')}/${r.tarball.pool}`;
  const tarball = join(work, basename(r.tarball.pool));
  update(`downloading ${url}`);
  await downloadTo(url, tarball);
  const got = await sha256File(tarball);
  if (got !== r.tarball.sha256) {
    throw new FetchError(`checksum mismatch for ${url}: sha256 is ${got}, expected ${r.tarball.sha256}`, 'the mirror serves other bytes than the source package lists; nothing was built');
  }
  const src = join(work, 'src');
  mkdirSync(src);
  await step(['tar', '-xf', tarball, '-C', src, '--strip-components=1'], work, 'tar');
  await step(['make', r.defconfig], src, 'make');
  const configFile = join(src, '.config');
  let config = readFileSync(configFile, 'utf8');
  for (const [name, on] of Object.entries(r.config)) {
    const line = on ? `CONFIG_${name}=y` : `# CONFIG_${name} is not set`;
    const re = new RegExp(`^(CONFIG_${name}=.*|# CONFIG_${name} is not set)$`, 'm');
    if (!re.test(config)) throw new FetchError(`${r.defconfig} of ${basename(r.tarball.pool)} has no option ${name}`, 'the recipe names an option this version does not know');
    config = config.replace(re, line);
  }
  writeFileSync(configFile, config);
  let compiled = 0;
  await step(['make', `-j${cpus().length}`], src, 'make', (l) => {
    if (/^\s+CC\s/.test(l)) update(`${++compiled} files compiled`);
  });
  copyFileSync(join(src, r.output[0]), join(staging, r.output[1]));
}

async function step(cmd: string[], cwd: string, what: string, onLine?: (l: string) => void): Promise<void> {
  // Kconfig stamps the build time into the program's banner unless told not to.
  const env = { ...process.env, KCONFIG_NOTIMESTAMP: '1' };
  const res = await run(cmd[0]!, cmd.slice(1), { cwd, onLine, env }).catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message }));
  if (res.code !== 0) {
    throw new FetchError(`${cmd.join(' ')} failed:\n${tail(`${res.stdout}\n${res.stderr}`, 15).join('\n')}`, `run \`npm run setup\` (it installs ${what}, gcc and bzip2)`);
  }
}
