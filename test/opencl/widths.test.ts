/**
 * The byte layouts the OpenCL bindings hand to C, for a 64-bit host (this machine) and a
 * 32-bit one (DE10-Nano's Cortex-A9), against bytes written out by hand from cl.h's types:
 * cl_context_properties is intptr_t, handles are pointers, work sizes and *_size_ret are
 * size_t, cl_queue_properties / cl_mem_flags stay cl_ulong everywhere.
 */
import * as assert from 'node:assert/strict';
import { OpenCLUsageError } from '../../host/opencl';
import { infoHandles, infoSize, infoSizeArray, InfoFn } from '../../host/opencl/info';
import { contextProperties, decodeWords, encodeWords, handleArray, hostWidths, memObjectArg, OutWord, sizeArray, WIDTHS_32, WIDTHS_64 } from '../../host/opencl/widths';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** An InfoFn answering one query with fixed bytes, following the two-step size protocol. */
function answering(bytes: number[], sizeWidth: 4 | 8): InfoFn {
  return (_name, size, value, sizeRet) => {
    if (sizeRet) sizeRet.set(encodeWords([BigInt(bytes.length)], sizeWidth, 'size'));
    if (value) {
      if (size < bytes.length) return -30; // CL_INVALID_VALUE, as a runtime answers a short buffer
      value.set(bytes);
    }
    return 0;
  };
}

describe('OpenCL bindings: pointer and size_t widths', () => {
  it('the host widths come from koffi: 8 bytes on x86-64 and aarch64, 4 on armhf', () => {
    assert.deepEqual(hostWidths(), process.arch === 'arm' || process.arch === 'ia32' ? WIDTHS_32 : WIDTHS_64);
  });

  it('context properties { CL_CONTEXT_PLATFORM, platform, 0 } are intptr_t words', () => {
    assert.equal(hex(contextProperties(0x5566778899aabbccn, WIDTHS_64)), '8410000000000000' + 'ccbbaa9988776655' + '0000000000000000');
    assert.equal(hex(contextProperties(0x01020304n, WIDTHS_32)), '84100000' + '04030201' + '00000000');
    // a 64-bit handle cannot come from a 32-bit process: refused, not truncated
    assert.throws(() => contextProperties(0x1_0000_0000n, WIDTHS_32), OpenCLUsageError);
  });

  it('a cl_mem kernel argument is sizeof(cl_mem) bytes: 8 or 4 (8 on a 32-bit host is CL_INVALID_ARG_SIZE)', () => {
    assert.equal(hex(memObjectArg(0xdeadbeef12n, WIDTHS_64)), '12efbeadde000000');
    assert.equal(hex(memObjectArg(0xdeadbeefn, WIDTHS_32)), 'efbeadde');
    assert.equal(memObjectArg(null, WIDTHS_32).byteLength, 4);
    assert.equal(hex(memObjectArg(null, WIDTHS_64)), '0000000000000000');
  });

  it('handle arrays (devices, wait lists, binary pointers) put the second handle at byte 4 on a 32-bit host', () => {
    assert.equal(hex(handleArray([0x11n, 0x2233n], WIDTHS_32)), '11000000' + '33220000');
    assert.equal(hex(handleArray([0x11n, 0x2233n], WIDTHS_64)), '1100000000000000' + '3322000000000000');
    assert.deepEqual(decodeWords(handleArray([7n, 0xffffffffn, 0n], WIDTHS_32), 4), [7n, 0xffffffffn, 0n]);
  });

  it('size_t arrays (work sizes, binary lengths) follow size_t; values above the width are refused', () => {
    assert.equal(hex(sizeArray([1, 256, 65536], WIDTHS_32)), '01000000' + '00010000' + '00000100');
    assert.equal(hex(sizeArray([2 ** 40], WIDTHS_64)), '0000000000010000');
    assert.throws(() => sizeArray([2 ** 32], WIDTHS_32), /does not fit a 4-byte word/);
    assert.throws(() => sizeArray([-1], WIDTHS_64), OpenCLUsageError);
  });

  it('the 64-bit encodings are byte for byte what the BigUint64Array layout was', () => {
    const values = [0n, 1n, 0x1084n, 0x7fff_1234_5678_9abcn];
    const old = new Uint8Array(BigUint64Array.from(values).buffer);
    assert.deepEqual(handleArray(values, WIDTHS_64), old);
    assert.deepEqual(encodeWords(values, 8, 'x'), old);
  });

  it('one-word out-parameters are as wide as the C type and read little-endian', () => {
    const out = new OutWord(4);
    out.bytes.set([0x78, 0x56, 0x34, 0x12]);
    assert.equal(out.bytes.byteLength, 4);
    assert.equal(out.value, 0x12345678n);
    assert.equal(new OutWord(8).bytes.byteLength, 8);
  });

  it('size_t and handle[] info values decode with the given widths (CL_DEVICE_MAX_WORK_ITEM_SIZES, CL_PROGRAM_DEVICES)', () => {
    // a fixed-size query asks for exactly sizeof(size_t) bytes
    const asked: number[] = [];
    const recording = (fn: InfoFn): InfoFn => (name, size, value, sizeRet) => (asked.push(size), fn(name, size, value, sizeRet));
    assert.equal(infoSize('q', recording(answering([0x00, 0x10, 0, 0], 4)), 0, WIDTHS_32), 4096);
    // a 64-bit runtime answers in 8 bytes: a 4-byte buffer is refused (CL_INVALID_VALUE), never overrun
    assert.throws(() => infoSize('q', recording(answering([0x00, 0x10, 0, 0, 0, 0, 0, 0], 8)), 0, WIDTHS_32), /CL_INVALID_VALUE/);
    assert.deepEqual(asked, [4, 4]);
    assert.equal(infoSize('q', answering([0x00, 0x10, 0, 0, 0, 0, 0, 0], 8), 0, WIDTHS_64), 4096);
    assert.deepEqual(infoSizeArray('q', answering([4, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0], 4), 0, WIDTHS_32), [4, 2, 1]);
    assert.deepEqual(infoSizeArray('q', answering([4, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0], 8), 0, WIDTHS_64), [0x2_0000_0004]); // what a 64-bit reading makes of a 32-bit answer
    assert.deepEqual(infoHandles('q', answering([0xaa, 0, 0, 0, 0xbb, 0, 0, 0], 4), 0, WIDTHS_32), [0xaan, 0xbbn]);
  });
});
