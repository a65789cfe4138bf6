// The bare baseline (test/bench/bare.ts) reads every node's compose.yaml: every service
// of every valid configuration must turn into a unit, in an order that starts each
// dependency first, with the service's own flags, mounts and user.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planCluster } from '../../src/plan/plan.js';
import { composeDocument } from '../../src/render/compose.js';
import { runScriptText, serviceArgv, startOrder, unitScriptText, type ComposeService, type ImageConfig } from '../bench/bare-units.js';
import { fixtureFiles, loadFixture } from '../helpers/fixtures.js';

const image: ImageConfig = { entrypoint: ['/usr/local/bin/main'], cmd: ['serve', '/etc/kubernetes/config.yml'], env: ['K8S_IMG_VERSION=0.1.0'], user: '0', workdir: '' };
const stacks = () =>
  fixtureFiles('valid').flatMap((file) => {
    const plan = planCluster(loadFixture(`valid/${file}`));
    return plan.nodes.map((node) => ({ where: `${file}: ${node.name}`, services: composeDocument(plan, node).services as Record<string, ComposeService> }));
  });

describe('bare baseline units', () => {
  it('turns every service of every valid configuration into a unit, dependencies first', () => {
    let services = 0;
    for (const { where, services: svcs } of stacks()) {
      const order = startOrder(svcs);
      assert.deepEqual([...order].sort(), Object.keys(svcs).sort(), where);
      for (const [name, s] of Object.entries(svcs)) {
        for (const dep of Object.keys(s.depends_on ?? {})) assert.ok(order.indexOf(dep) < order.indexOf(name), `${where}: ${dep} before ${name}`);
        assert.match(runScriptText('n', name, s, image), /exec env -i /, `${where}: ${name}`);
        assert.match(unitScriptText('n', name, s, image), new RegExp(`/var/log/${name}\\.log`), `${where}: ${name}`);
        services++;
      }
    }
    assert.ok(services > 50);
  });

  it("runs etcd as the service's user with its bundle folder read-only at /etc/kubernetes, and its flags as rendered", () => {
    const plan = planCluster(loadFixture('valid/tutorial-secure.yaml'));
    const sw1 = plan.nodes.find((n) => n.roles.includes('etcd'))!;
    const etcd = (composeDocument(plan, sw1).services as Record<string, ComposeService>).etcd!;
    const run = runScriptText(sw1.name, 'etcd', etcd, { ...image, cmd: [] });
    assert.match(run, /mount --bind \/opt\/k8s-img\/bundle\/etcd \/etc\/kubernetes && mount -o remount,bind,ro \/etc\/kubernetes/);
    assert.match(run, /setpriv --reuid=379 --regid=379 --clear-groups "\$@"$/m);
    const unit = unitScriptText(sw1.name, 'etcd', etcd, { ...image, cmd: [] });
    assert.ok(unit.includes(`/usr/local/bin/main ${etcd.command!.join(' ')}`), unit);
    assert.match(unit, /^ {2}:$/m, 'restart: always runs it again');
  });

  it('takes the entrypoint and command as a container would', () => {
    assert.deepEqual(serviceArgv({ image: 'x' }, image), ['/usr/local/bin/main', 'serve', '/etc/kubernetes/config.yml']);
    assert.deepEqual(serviceArgv({ image: 'x', command: ['--a'] }, image), ['/usr/local/bin/main', '--a']);
    // A Compose entrypoint drops the image's command.
    assert.deepEqual(serviceArgv({ image: 'x', entrypoint: ['/bin/other'] }, image), ['/bin/other']);
    assert.throws(() => startOrder({ a: { image: 'x', depends_on: { b: { condition: 'service_started' } } }, b: { image: 'x', depends_on: { a: { condition: 'service_started' } } } }), /cycle/);
  });
});
