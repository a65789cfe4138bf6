// The incremental bundle sync against a real folder on this machine (commands run
// with this machine's sh, tars unpacked by tar-stream): what travels, and that a sync
// with nothing to do sends nothing at all.
import { scratchDir } from '../helpers/scratch.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import tar from 'tar-stream';
import { MANIFEST, syncBundle, type BundleTarget } from '../../src/runtime/bundle-sync.js';

const root = scratchDir('k8s-img-sync-');
after(() => rmSync(root, { recursive: true, force: true }));

/** A folder of this machine as a node; counts the tar bytes it receives. */
function folderNode(): BundleTarget & { received: number; tars: number } {
  const node = {
    received: 0,
    tars: 0,
    exec: async (argv: string[], dir?: string) => {
      const r = spawnSync(argv[0]!, argv.slice(1), { cwd: dir, encoding: 'utf8' });
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
    putTar: async (stream: NodeJS.ReadableStream, dir: string) => {
      node.tars++;
      const extract = tar.extract();
      extract.on('entry', (h, s, next) => {
        const chunks: Buffer[] = [];
        s.on('data', (c: unknown) => chunks.push(c as Buffer));
        s.on('end', () => {
          mkdirSync(dirname(join(dir, h.name)), { recursive: true });
          writeFileSync(join(dir, h.name), Buffer.concat(chunks), { mode: h.mode });
          next();
        });
      });
      stream.on('data', (c: Buffer) => (node.received += c.length));
      stream.pipe(extract);
      await new Promise<void>((resolve, reject) => extract.on('finish', () => resolve()).on('error', reject));
    },
  };
  return node;
}

const blob = (hex: string) => `registry-storage/docker/registry/v2/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`;

describe('bundle sync', () => {
  const local = join(root, 'bundle');
  const remote = join(root, 'node');
  const node = folderNode();
  const put = (rel: string, content: string) => {
    mkdirSync(dirname(join(local, rel)), { recursive: true });
    writeFileSync(join(local, rel), content);
  };

  it('the first sync sends every file and the manifest', async () => {
    put('compose.yaml', 'services: {}\n');
    put(blob('a'.repeat(64)), 'A'.repeat(1000));
    const r = await syncBundle(node, local, remote);
    assert.deepEqual(r, { sent: 2, bytes: 13 + 1000, removed: 0 });
    assert.equal(readFileSync(join(remote, blob('a'.repeat(64))), 'utf8'), 'A'.repeat(1000));
    assert.ok(existsSync(join(remote, MANIFEST)));
  });

  it('a sync with nothing new sends nothing: no file, no manifest, no tar', async () => {
    const before = { received: node.received, tars: node.tars };
    const r = await syncBundle(node, local, remote);
    assert.deepEqual(r, { sent: 0, bytes: 0, removed: 0 });
    assert.deepEqual({ received: node.received, tars: node.tars }, before);
  });

  it('a new blob sends that blob only; a removed file is removed on the node', async () => {
    put(blob('b'.repeat(64)), 'B'.repeat(5000));
    rmSync(join(local, 'compose.yaml'));
    const before = node.received;
    const r = await syncBundle(node, local, remote);
    assert.deepEqual(r, { sent: 1, bytes: 5000, removed: 1 });
    assert.ok(!existsSync(join(remote, 'compose.yaml')));
    // 5000 bytes of content plus tar headers and padding, and the manifest: no old blob again
    assert.ok(node.received - before < 5000 + 6 * 1024, `${node.received - before} bytes travelled`);
  });
});
