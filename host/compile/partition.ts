/**
 * Host/device partition: maximal runs of consecutive binary ops become device
 * segments (executed by the array as one layer program); everything else runs on the
 * host. Each segment lists the tensors that cross its boundary.
 */
import { CompiledOp, isDeviceOp, Segment, TensorInfo } from './model';

export function opInputs(op: CompiledOp): number[] {
  return op.op === 'add' ? [...op.in] : [op.in];
}

export function partition(ops: CompiledOp[], tensors: TensorInfo[], input: number, output: number): Segment[] {
  const segments: Segment[] = [];
  for (let i = 0; i < ops.length; ) {
    const device = isDeviceOp(ops[i]);
    let j = i + 1;
    while (j < ops.length && isDeviceOp(ops[j]) === device) j++;
    segments.push({ kind: device ? 'device' : 'host', start: i, end: j, inputs: [], outputs: [] });
    i = j;
  }
  const producer = new Int32Array(tensors.length).fill(-1);
  ops.forEach((op, i) => (producer[op.out] = i));
  const segOf = (opIndex: number) => segments.findIndex((s) => opIndex >= s.start && opIndex < s.end);
  for (const [si, s] of segments.entries()) {
    const ins = new Set<number>();
    for (let i = s.start; i < s.end; i++) {
      for (const t of opInputs(ops[i])) {
        if (t === input || producer[t] < s.start) ins.add(t);
      }
    }
    s.inputs = [...ins].sort((a, b) => a - b);
    const outs = new Set<number>();
    for (let i = s.start; i < s.end; i++) {
      const t = ops[i].out;
      if (t === output) outs.add(t);
      for (let k = s.end; k < ops.length; k++) {
        if (opInputs(ops[k]).includes(t) && segOf(k) !== si) outs.add(t);
      }
    }
    s.outputs = [...outs].sort((a, b) => a - b);
  }
  return segments;
}
