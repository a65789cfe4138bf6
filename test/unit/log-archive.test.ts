import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scrubSecrets } from '../../src/runtime/log-archive.js';

describe('logs: secrets scrubbed', () => {
  it('PEM private keys (whole or cut off by a log tail) and the given secret values are removed; certificates stay', () => {
    const cert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
    const text = `a\n-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n${cert}\ntoken=s3cr3t-t0ken-value\n-----BEGIN PRIVATE KEY-----\nMIIC`;
    const out = scrubSecrets(text, ['s3cr3t-t0ken-value', 'short']);
    assert.doesNotMatch(out, /PRIVATE KEY|MIIE|MIIC|s3cr3t/);
    assert.ok(out.includes(cert));
    assert.equal(out.match(/\[private key removed by k8s-img logs\]/g)?.length, 2);
    assert.match(out, /token=\[secret removed by k8s-img logs\]/);
  });
});
