import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseClusterConfig } from '../../src/config/load.js';
import { ConfigError, formatProblem } from '../../src/errors.js';
import { fixtureFiles, readFixture } from '../helpers/fixtures.js';

function expectations(text: string, tag: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`# ${tag}: `))
    .map((l) => l.slice(`# ${tag}: `.length));
}

describe('invalid configurations (fixture corpus)', () => {
  for (const file of fixtureFiles('invalid')) {
    it(file, () => {
      const text = readFixture(`invalid/${file}`);
      const expected = expectations(text, 'expect');
      assert.ok(expected.length > 0, `${file} states no expected message`);
      let error: unknown;
      try {
        parseClusterConfig(text, file);
      } catch (e) {
        error = e;
      }
      assert.ok(error instanceof ConfigError, `${file} was accepted`);
      assert.equal(error.exitCode, 2);
      const lines = error.problems.map(formatProblem);
      for (const want of expected) {
        assert.ok(lines.some((l) => l.startsWith(want) || l.includes(want)), `missing "${want}" in:\n${lines.join('\n')}`);
      }
      for (const p of error.problems) assert.ok(p.hint, `problem without a hint: ${formatProblem(p)}`);
    });
  }
});

describe('valid configurations', () => {
  for (const file of fixtureFiles('valid')) {
    it(file, () => {
      const text = readFixture(`valid/${file}`);
      const { warnings } = parseClusterConfig(text, file);
      const lines = warnings.map(formatProblem);
      for (const want of expectations(text, 'expect-warning')) {
        assert.ok(lines.some((l) => l.startsWith(want)), `missing warning "${want}" in:\n${lines.join('\n')}`);
      }
    });
  }

  it('fills in the tutorial defaults', () => {
    const { config } = parseClusterConfig(readFixture('valid/single-node.yaml'));
    assert.equal(config.networking.podCIDR, '172.20.0.0/16');
    assert.equal(config.networking.serviceCIDR, '10.68.0.0/16');
    assert.equal(config.networking.clusterDNS, '10.68.0.2');
    assert.equal(config.networking.nodePortRange, '30000-32767', 'upstream range: the conformance suite needs it');
    assert.equal(config.networking.calico.backend, 'vxlan');
    assert.equal(config.images.prefix, 'k8s-img');
  });

  it('reports every problem of a broken file in one go', () => {
    try {
      parseClusterConfig(readFixture('invalid/many-problems.yaml'));
      assert.fail('accepted');
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      assert.ok(e.problems.filter((p) => p.severity === 'error').length >= 6);
    }
  });
});
