import { ShapeError } from '../core/errors';
import { windowOut } from '../core/window';
import { IRNode, Shape } from './graph';

export { windowOut };

export function numel(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

function spatial(node: IRNode, s: Shape): [number, number, number] {
  if (s.length !== 3) {
    throw new ShapeError(`node '${node.name}' (${node.op}) needs a [C, H, W] input, got [${s.join(', ')}]`);
  }
  return [s[0], s[1], s[2]];
}

/** Infer a node's output shape from its input shapes; throws ShapeError on mismatch. */
export function inferShape(node: IRNode, inputs: Shape[]): Shape {
  const need = (n: number) => {
    if (inputs.length !== n) {
      throw new ShapeError(`node '${node.name}' (${node.op}) takes ${n} input(s), got ${inputs.length}`);
    }
  };
  switch (node.op) {
    case 'Input':
      return node.shape;
    case 'Convolution':
    case 'QConvolution': {
      need(1);
      const [c, h, w] = spatial(node, inputs[0]);
      const oh = windowOut(h, node.kernel[0], node.stride[0], node.pad[0]);
      const ow = windowOut(w, node.kernel[1], node.stride[1], node.pad[1]);
      if (oh < 1 || ow < 1) {
        throw new ShapeError(`node '${node.name}': kernel ${node.kernel.join('x')} does not fit input ${h}x${w} with pad ${node.pad.join(',')}`);
      }
      if (node.op === 'Convolution') {
        const g = node.numGroup ?? 1;
        if (!Number.isInteger(g) || g < 1 || c % g !== 0 || node.numFilter % g !== 0) {
          throw new ShapeError(`node '${node.name}': ${g} groups do not divide ${c} input channels and ${node.numFilter} filters`);
        }
        if (node.weight.length !== node.numFilter * (c / g) * node.kernel[0] * node.kernel[1]) {
          throw new ShapeError(`node '${node.name}': weight has ${node.weight.length} values, expected ${node.numFilter}x${c / g}x${node.kernel[0]}x${node.kernel[1]}`);
        }
      }
      return [node.numFilter, oh, ow];
    }
    case 'FullyConnected': {
      need(1);
      const k = numel(inputs[0]);
      if (node.weight.length !== node.numHidden * k) {
        throw new ShapeError(`node '${node.name}': weight has ${node.weight.length} values, expected ${node.numHidden}x${k}`);
      }
      return [node.numHidden];
    }
    case 'QFullyConnected':
      need(1);
      return [node.numHidden];
    case 'BatchNorm': {
      need(1);
      const c = inputs[0][0];
      for (const [k, v] of [['gamma', node.gamma], ['beta', node.beta], ['moving_mean', node.mean], ['moving_var', node.variance]] as const) {
        if (v.length !== c) throw new ShapeError(`node '${node.name}': ${k} has ${v.length} values, the input has ${c} channels`);
      }
      return inputs[0];
    }
    case 'Affine': {
      need(1);
      const c = inputs[0][0];
      if (node.scale.length !== c || node.bias.length !== c) {
        throw new ShapeError(`node '${node.name}': affine has ${node.scale.length} scales and ${node.bias.length} biases, the input has ${c} channels`);
      }
      return inputs[0];
    }
    case 'MultiThreshold': {
      need(1);
      const c = inputs[0][0];
      if (node.thresholds.length !== c * node.count) {
        throw new ShapeError(`node '${node.name}': ${node.thresholds.length} thresholds, the input has ${c} channels x ${node.count}`);
      }
      return inputs[0];
    }
    case 'Activation':
    case 'QActivation':
    case 'Softmax':
      need(1);
      return inputs[0];
    case 'Pooling': {
      need(1);
      const [c, h, w] = spatial(node, inputs[0]);
      if (node.global) return [c, 1, 1];
      const ceil = node.convention === 'full';
      const oh = windowOut(h, node.kernel[0], node.stride[0], node.pad[0], ceil);
      const ow = windowOut(w, node.kernel[1], node.stride[1], node.pad[1], ceil);
      if (oh < 1 || ow < 1) throw new ShapeError(`node '${node.name}': pooling window does not fit input ${h}x${w}`);
      return [c, oh, ow];
    }
    case 'Flatten':
      need(1);
      return [numel(inputs[0])];
    case 'Add': {
      need(2);
      if (inputs[0].join(',') !== inputs[1].join(',')) {
        throw new ShapeError(`node '${node.name}': cannot add [${inputs[0].join(', ')}] and [${inputs[1].join(', ')}]`);
      }
      return inputs[0];
    }
  }
}
