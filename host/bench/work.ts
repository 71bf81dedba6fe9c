/**
 * Arithmetic work of a compiled model per image: the float multiply-adds of its host
 * convolutions and dense layers, and the binary MACs (bit-ops) of its binary layers, so
 * `bench model --layers` can set measured times against this machine's ceilings
 * (`bench peak`): no kernel can run a layer faster than its work at the ceiling.
 */
import { CompiledModel } from '../compile/model';

export interface ModelWork {
  /** Fused multiply-adds of conv2d and dense ops (one per weight per output pixel). */
  floatFma: number;
  /**
   * Binary MACs of bconv ops: conv pixels (before any pool) x output channels x K real
   * bits x activation planes x weight planes (the plane pairs the popcount kernels run).
   */
  binaryMacs: number;
}

export function modelWork(m: CompiledModel): ModelWork {
  let floatFma = 0;
  let binaryMacs = 0;
  for (const op of m.ops) {
    if (op.op === 'conv2d') {
      const y = m.tensors[op.out];
      floatFma += y.h * y.w * op.weight.length; // weight: [outC][kh][kw][inC per group]
    } else if (op.op === 'dense') {
      floatFma += op.weight.length;
    } else if (op.op === 'bconv') {
      const x = m.tensors[op.in];
      const ah = Math.floor((x.h + 2 * op.ph - op.kh) / op.sh) + 1;
      const aw = Math.floor((x.w + 2 * op.pw - op.kw) / op.sw) + 1;
      binaryMacs += ah * aw * op.outC * op.kh * op.kw * x.c * op.inBits * (op.wBits ?? 1);
    }
  }
  return { floatFma, binaryMacs };
}
