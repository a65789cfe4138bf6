import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveDefaults } from '../../src/config/defaults.js';
import { importProperties, parseProperties } from '../../src/config/properties.js';
import { checkRules } from '../../src/config/rules.js';
import { ConfigError, formatProblem } from '../../src/errors.js';

const props = (ip: string, etcd = 'http://192.168.232.207:2379') =>
  `#kubernetes二进制文件目录\nBIN_PATH=/home/michael/bin\n\nNODE_IP=${ip}\nETCD_ENDPOINTS=${etcd}\nMASTER_IP=192.168.232.206\n`;

describe('config.properties import', () => {
  it('parses key=value lines and ignores comments', () => {
    assert.deepEqual(parseProperties('# c\nA=1\nB = two \n\n!x\n'), { A: '1', B: 'two' });
  });

  it("turns the tutorial's three files into one valid cluster", () => {
    const c = importProperties([
      { name: 'sm1.properties', text: props('192.168.232.206') },
      { name: 'sw1.properties', text: props('192.168.232.207') },
      { name: 'sw2.properties', text: props('192.168.232.208') },
    ]);
    assert.deepEqual(c.nodes, [
      { name: 'master-1', address: '192.168.232.206', roles: ['control-plane'] },
      { name: 'worker-1', address: '192.168.232.207', roles: ['worker', 'etcd'] },
      { name: 'worker-2', address: '192.168.232.208', roles: ['worker'] },
    ]);
    assert.equal(c.security?.mode, 'simple');
    assert.deepEqual(c.binaries, { source: 'dir', dir: '/home/michael/bin' });
    assert.deepEqual(checkRules(resolveDefaults(c)).filter((p) => p.severity === 'error'), []);
  });

  it('https etcd endpoints mean the with-ca flavour', () => {
    const c = importProperties([{ name: 'a', text: props('192.168.232.207', 'https://192.168.232.207:2379').replace('MASTER_IP=192.168.232.206', 'MASTER_IP=192.168.232.207') }]);
    assert.equal(c.security?.mode, 'secure');
  });

  it('rejects empty values and disagreeing files, naming file and key', () => {
    try {
      importProperties([
        { name: 'sm1.properties', text: props('192.168.232.206').replace('NODE_IP=192.168.232.206', 'NODE_IP=') },
        { name: 'sw1.properties', text: props('192.168.232.207').replace('MASTER_IP=192.168.232.206', 'MASTER_IP=10.0.0.1') },
      ]);
      assert.fail('accepted');
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      const lines = e.problems.map(formatProblem).join('\n');
      assert.match(lines, /sm1\.properties: NODE_IP: is missing or empty/);
      assert.match(lines, /MASTER_IP: the files disagree/);
    }
  });
});
