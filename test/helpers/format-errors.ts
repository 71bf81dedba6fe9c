/** Checks that a reader of untrusted bytes fails only with one-line FormatErrors. */
import * as assert from 'node:assert/strict';
import { FormatError } from '../../host/core/errors';

/** Runs fn and requires a FormatError (never RangeError or any other crash). */
export function assertFormatError(fn: () => unknown, match?: RegExp): FormatError {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof FormatError)) {
      throw new assert.AssertionError({ message: `expected FormatError, got ${e instanceof Error ? e.name + ': ' + e.message : String(e)}` });
    }
    assert.ok(!e.message.includes('\n'), `error message is one line: ${e.message}`);
    if (match) assert.match(e.message, match);
    return e;
  }
  assert.fail('expected a FormatError, nothing was thrown');
}

/** Only a FormatError is acceptable as a failure. */
export function parsesOrFormatError(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
  }
}
