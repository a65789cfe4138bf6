// Issue 11, the long part: a Go binary built from nothing (an empty Go build cache and
// binary cache, as on a second machine) is the same bytes as the one of this machine's
// caches. Compiling the standard library again takes minutes on 2 cores: not in CI
// (test/integration/reproducible.test.ts checks the images and SBOMs there).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fetchGroup, groupsFor } from '../../src/pipeline/fetch.js';
import { silentReporter } from '../../src/pipeline/progress.js';
import { BinaryCache } from '../../src/runtime/bincache.js';
import { GoToolchain } from '../../src/runtime/gotool.js';
import { cacheDir } from '../../src/runtime/paths.js';
import { fixtureConfig } from '../integration/harness.js';

const config = fixtureConfig('tutorial-simple.yaml');

describe('reproducible Go binaries', () => {
  it('a Go binary built again in an empty build cache is the same bytes, with no build ID and -trimpath', async () => {
    const group = groupsFor(config).find((g) => g.id === 'workload')!;
    // Round 1: the binary of the machine's caches (built there at some other time, in another
    // work folder); round 2: built from nothing (empty Go build cache and binary cache).
    const sums: string[] = [];
    for (const round of [1, 2]) {
      if (round === 1) {
        sums.push((await fetchGroup({ config, cache: new BinaryCache(cacheDir()), go: new GoToolchain(), reporter: silentReporter }, group, 'local'))['k8s-img-workload'].sha256);
        continue;
      }
      const dir = mkdtempSync(join(tmpdir(), `k8s-img-gorepro-${round}-`));
      const previous = process.env.GOCACHE;
      process.env.GOCACHE = join(dir, 'gocache');
      try {
        const bins = await fetchGroup({ config, cache: new BinaryCache(join(dir, 'cache')), go: new GoToolchain(), reporter: silentReporter }, group, 'local');
        const bin = bins['k8s-img-workload'];
        sums.push(bin.sha256);
        assert.equal(execFileSync('go', ['tool', 'buildid', bin.path]).toString().trim(), '', 'no build ID');
        assert.match(execFileSync('go', ['version', '-m', bin.path]).toString(), /build\s+-trimpath=true/);
      } finally {
        if (previous === undefined) delete process.env.GOCACHE;
        else process.env.GOCACHE = previous;
        rmSync(dir, { recursive: true, force: true });
      }
    }
    assert.equal(sums[0], sums[1]);
  });
});
