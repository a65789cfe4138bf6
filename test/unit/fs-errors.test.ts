// File-system failures reach the user as host errors (exit 3) with a reason and
// a hint, never as "internal error"; the original error stays as the cause.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { printError } from '../../src/cli/output.js';
import { HostError } from '../../src/errors.js';
import { fsError, withFsErrors } from '../../src/runtime/fs-errors.js';

function errno(code: string, syscall = 'open', path = '/x/y'): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: failed, ${syscall} '${path}'`), { code, syscall, path, errno: -1 });
}

describe('file-system errors', () => {
  for (const [code, reason] of [['EACCES', 'permission denied'], ['EPERM', 'not permitted'], ['EROFS', 'read-only'], ['ENOSPC', 'no space left'], ['ENOTDIR', 'is a file, not a folder']] as const) {
    it(`${code} becomes a HostError saying "${reason}", cause kept`, () => {
      const e = errno(code);
      const h = fsError(e, 'cannot write out/sm1');
      assert.ok(h instanceof HostError);
      assert.equal(h.exitCode, 3);
      assert.match(h.message, new RegExp(`^cannot write out/sm1: .*${reason}`));
      assert.ok(h.hint);
      assert.equal(h.cause, e);
    });
  }

  it('withFsErrors wraps file-system errors and passes others through', () => {
    assert.throws(() => withFsErrors('cannot x', () => { throw errno('EIO'); }), HostError);
    assert.throws(() => withFsErrors('cannot x', () => { throw new RangeError('mine'); }), RangeError);
  });

  it('an unwrapped file-system error is printed as a host error, not an internal one', () => {
    let out = '';
    const code = printError(errno('EACCES', 'mkdir', '/srv/out'), { write: (s: string) => (out += s) });
    assert.equal(code, 3);
    assert.match(out, /^error: mkdir \/srv\/out: permission denied\nhint: /);
    assert.doesNotMatch(out, /internal error|\n\s+at /);
  });
});
