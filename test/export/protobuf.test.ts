/** The protobuf writer under export-onnx (host/export/protobuf.ts): wire format, checked against known encodings. */
import * as assert from 'node:assert/strict';
import { ProtoWriter, readFields, utf8Decode } from '../../host/export/protobuf';

describe('export-onnx: protobuf writer', () => {
  it('writes varints, negative int64, floats, strings and nested messages that read back', () => {
    const w = new ProtoWriter();
    w.int(1, 0).int(1, 127).int(1, 128).int(1, 300).int(1, 2 ** 40 + 5).int(1, -1).float(2, 1.5).string(3, 'héllo');
    w.message(4, (m) => m.int(1, 7));
    const f = readFields(w.finish());
    assert.deepEqual(f.filter((x) => x.field === 1).map((x) => BigInt.asIntN(64, x.int!)), [0n, 127n, 128n, 300n, 2n ** 40n + 5n, -1n]);
    assert.equal(new DataView(f[6].bytes!.buffer, f[6].bytes!.byteOffset).getFloat32(0, true), 1.5);
    assert.equal(utf8Decode(f[7].bytes!), 'héllo');
    assert.equal(readFields(f[8].bytes!)[0].int, 7n);
    // the encoding of 300 is the textbook AC 02; -1 takes ten bytes
    const one = new ProtoWriter().varint(300).finish();
    assert.deepEqual(Array.from(one), [0xac, 0x02]);
    assert.equal(new ProtoWriter().varint(-1).finish().length, 10);
    assert.throws(() => readFields(Uint8Array.of(0x0a, 0x05, 0x01)), /past the end/);
  });
});
