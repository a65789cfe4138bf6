// Folders tests make under the system's temporary folder: removed when the test process
// ends (K8S_IMG_KEEP_TEST_STATE=1 keeps them for a post-mortem). A cluster's state folder
// holds GBs of bundles and archives; the fuzzers make thousands of small ones.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];
process.on('exit', () => {
  if (process.env.K8S_IMG_KEEP_TEST_STATE === '1') return;
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A new folder `<tmp>/<prefix>XXXXXX`, removed at exit. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
