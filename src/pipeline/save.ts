// save: per node, one archive with exactly the images that node needs, and a
// checksum manifest. With the node's bundle it is all the node needs:
//   docker load -i images.tar && docker compose up -d
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BuildError } from '../errors.js';
import type { ClusterPlan } from '../plan/types.js';
import { sha256File } from '../runtime/bincache.js';
import type { DockerEngine } from '../runtime/docker.js';
import type { Reporter } from './progress.js';

export interface NodeArchive {
  node: string;
  file: string;
  sha256: string;
  images: { ref: string; id: string }[];
  status: 'saved' | 'up to date';
}

/** images.txt: what the archive holds, one `ref id` per line (also how we tell it is up to date). */
function listing(images: { ref: string; id: string }[]): string {
  return images.map((i) => `${i.ref} ${i.id}\n`).join('');
}

export async function saveNodeArchives(plan: ClusterPlan, docker: DockerEngine, outDir: string, reporter: Reporter): Promise<NodeArchive[]> {
  const out: NodeArchive[] = [];
  for (const node of plan.nodes) {
    const refs = node.images.map((id) => plan.images[id]);
    const images: { ref: string; id: string }[] = [];
    const missing: string[] = [];
    for (const ref of refs) {
      const info = await docker.imageInfo(ref);
      if (info) images.push({ ref, id: info.id });
      else missing.push(ref);
    }
    if (missing.length > 0) throw new BuildError(`images not built: ${missing.join(', ')}`, 'run `k8s-img build -c FILE` first');

    const dir = join(outDir, node.name);
    const file = join(dir, 'images.tar');
    const listFile = join(dir, 'images.txt');
    const sumFile = join(dir, 'images.sha256');
    if (existsSync(file) && existsSync(sumFile) && existsSync(listFile) && readFileSync(listFile, 'utf8') === listing(images)) {
      const sha256 = readFileSync(sumFile, 'utf8').split(/\s+/)[0]!;
      out.push({ node: node.name, file, sha256, images, status: 'up to date' });
      reporter.info(`= ${file} up to date`);
      continue;
    }
    mkdirSync(dir, { recursive: true });
    const tmp = join(dir, `.images.tar.tmp-${process.pid}`);
    const sha256 = await reporter.step(`Saving ${images.length} images for ${node.name}`, async () => {
      try {
        await docker.save(refs, tmp);
        return await sha256File(tmp);
      } catch (e) {
        rmSync(tmp, { force: true });
        throw e;
      }
    });
    renameSync(tmp, file);
    writeFileSync(sumFile, `${sha256}  images.tar\n`);
    writeFileSync(listFile, listing(images));
    out.push({ node: node.name, file, sha256, images, status: 'saved' });
  }
  return out;
}
