/**
 * Host/device partition: maximal runs of consecutive binary ops become device
 * segments (executed by the array as one layer program); everything else runs on the
 * host. Each segment lists the tensors that cross its boundary. A target whose array cannot
 * run a device segment whole may cut it further when it loads the model (`cutSegments`,
 * host/array/zero-pad.ts); the compiled model always holds the maximal runs.
 */
import { CompiledModel, CompiledOp, isDeviceOp, Segment, TensorInfo } from './model';

export function opInputs(op: CompiledOp): number[] {
  return op.op === 'add' ? [...op.in] : [op.in];
}

type Run = Pick<Segment, 'kind' | 'start' | 'end'>;

export function partition(ops: CompiledOp[], tensors: TensorInfo[], input: number, output: number): Segment[] {
  const runs: Run[] = [];
  for (let i = 0; i < ops.length; ) {
    const device = isDeviceOp(ops[i]);
    let j = i + 1;
    while (j < ops.length && isDeviceOp(ops[j]) === device) j++;
    runs.push({ kind: device ? 'device' : 'host', start: i, end: j });
    i = j;
  }
  return linkSegments(ops, tensors, input, output, runs);
}

/**
 * The model's segments with every device segment also cut before each op in `cuts`:
 * consecutive device segments whose boundary tensors cross through the host.
 */
export function cutSegments(m: CompiledModel, cuts: Iterable<number>): Segment[] {
  const at = [...new Set(cuts)].sort((a, b) => a - b);
  const runs = m.segments.flatMap((s): Run[] => {
    if (s.kind !== 'device') return [s];
    const bounds = [s.start, ...at.filter((c) => c > s.start && c < s.end), s.end];
    return bounds.slice(1).map((end, k) => ({ kind: 'device', start: bounds[k], end }));
  });
  return linkSegments(m.ops, m.tensors, m.input, m.output, runs);
}

/** Segments over `runs` (contiguous, in order), each listing the tensors that cross its boundary. */
function linkSegments(ops: CompiledOp[], tensors: TensorInfo[], input: number, output: number, runs: Run[]): Segment[] {
  const segments: Segment[] = runs.map((r) => ({ kind: r.kind, start: r.start, end: r.end, inputs: [], outputs: [] }));
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
