// The in-place readers the meminfo, diskstats and net/dev parsers share: they must read exactly
// what split(/\s+/) and Number() read, so that parsing in place changes no value.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBlank, numberAt } from '../../internal/procfs/scan';

describe('in-place reading of kernel files', () => {
  it('isBlank is white space exactly as /\\s/ sees it, for every UTF-16 code unit', () => {
    for (let code = 0; code <= 0xffff; code += 1) {
      assert.equal(isBlank(code), /\s/.test(String.fromCharCode(code)), `U+${code.toString(16)}`);
    }
  });

  it('numberAt reads a word as Number() does, digits in place and anything else through Number()', () => {
    const words = ['0', '7', '18446744073709551615', '999999999999999', '9999999999999999', '', '-5', '+5', '1e3', '0x1f', '1.5', '.5', '12abc', 'kB', 'NaN', 'Infinity'];
    for (const word of words) {
      const text = `  ${word}  `;
      assert.ok(Object.is(numberAt(text, 2, 2 + word.length), Number(word)), JSON.stringify(word));
    }
  });
});
