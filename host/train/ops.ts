/**
 * Differentiable building blocks for BMXNet-style binary networks on tfjs.
 *
 * - `sign`: forward sign with sign(0) = +1 (DESIGN §1; tf.sign(0) is 0), backward the
 *   straight-through estimator: the gradient passes where |x| <= 1 and is cancelled
 *   elsewhere.
 * - `matMul` / `conv2d`: the wasm backend runs only the plain (non-transposed) matrix
 *   product and the forward convolution through XNNPACK; its transposed products and
 *   Conv2DBackpropInput are naive loops (10-30x slower) and Conv2DBackpropFilter does
 *   not exist. These ops therefore express every gradient as a plain product or a
 *   forward convolution of transposed operands.
 * - `maxPool2`: 2x2 stride-2 max pooling with its own gradient. The wasm backend's
 *   MaxPoolGrad drops the gradient of some windows whose maximum is negative (seen on
 *   24x24 maps: about 0.3% of positions at batch 100, pinned by test/train/ops.test.ts),
 *   which silently slows training. Tied maxima share the gradient evenly.
 */
import { Tensor, Tf } from './tfjs';

export interface Ops {
  sign(x: Tensor): Tensor;
  matMul(a: Tensor, b: Tensor): Tensor;
  /** Valid (unpadded) stride-1 convolution, NHWC input, [kh, kw, in, out] filter. */
  conv2d(x: Tensor, w: Tensor): Tensor;
  /** As conv2d, without the input gradient (for a layer fed by the data). */
  conv2dFirst(x: Tensor, w: Tensor): Tensor;
  /** 2x2 max pooling, stride 2, NHWC with even height and width. */
  maxPool2(x: Tensor): Tensor;
}

export function makeOps(tf: Tf): Ops {
  const signValue = (x: Tensor): Tensor => tf.sub(tf.mul(tf.cast(tf.greaterEqual(x, 0), 'float32'), 2), 1);

  const sign = tf.customGrad((...args) => {
    const x = args[0] as Tensor;
    (args[1] as (t: Tensor[]) => void)([x]);
    return {
      value: signValue(x),
      gradFunc: (dy, [xs]) => tf.mul(dy, tf.cast(tf.lessEqual(tf.abs(xs), 1), 'float32')),
    };
  });

  const matMul = tf.customGrad((...args) => {
    const [a, b] = args as Tensor[];
    (args[2] as (t: Tensor[]) => void)([a, b]);
    return {
      value: tf.matMul(a, b),
      gradFunc: (dy, [as, bs]) => [tf.matMul(dy, tf.transpose(bs)), tf.matMul(tf.transpose(as), dy)],
    };
  });

  /** dW[ky,kx,i,o] = sum_{n,y,x} x[n,y+ky,x+kx,i] dy[n,y,x,o]: a convolution over (y, x) with batch as channels. */
  const filterGrad = (x: Tensor, dy: Tensor): Tensor => {
    const xT = tf.transpose(x, [3, 1, 2, 0]); // [in, H, W, N]
    const dyT = tf.transpose(dy, [1, 2, 0, 3]); // [OH, OW, N, out]: a filter
    return tf.transpose(tf.conv2d(xT, dyT, 1, 'valid'), [1, 2, 0, 3]); // [in, kh, kw, out] -> [kh, kw, in, out]
  };

  /** dx = full convolution of dy with the flipped filter, in and out channels swapped. */
  const inputGrad = (dy: Tensor, w: Tensor): Tensor => {
    const [kh, kw] = w.shape;
    const padded = tf.pad(dy, [[0, 0], [kh - 1, kh - 1], [kw - 1, kw - 1], [0, 0]]);
    return tf.conv2d(padded, tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]), 1, 'valid');
  };

  const conv = (withInputGrad: boolean) =>
    tf.customGrad((...args) => {
      const [x, w] = args as Tensor[];
      (args[2] as (t: Tensor[]) => void)([x, w]);
      return {
        value: tf.conv2d(x, w, 1, 'valid'),
        gradFunc: (dy, [xs, ws]) => [withInputGrad ? inputGrad(dy, ws) : tf.zerosLike(xs), filterGrad(xs, dy)],
      };
    });

  /**
   * dx: dy shared evenly by the positions of each 2x2 window that hold its maximum
   * (a subgradient of max; ties are common where a convolution sees only background).
   * Built from 4-D ops the wasm backend runs fast: nearest-neighbour upsampling and
   * average pooling (its rank-5 broadcasts, slices and transposes are 10-100x slower).
   */
  const poolGrad = (x: Tensor, y: Tensor, dy: Tensor): Tensor => {
    const [, h, w] = x.shape;
    const up = (t: Tensor) => tf.image.resizeNearestNeighbor(t, [h, w]);
    const hit = tf.cast(tf.equal(x, up(y)), 'float32');
    const ties = tf.mul(tf.avgPool(hit, 2, 2, 'valid'), 4);
    return tf.mul(hit, up(tf.div(dy, ties)));
  };

  const maxPool2 = tf.customGrad((...args) => {
    const x = args[0] as Tensor;
    const [, h, w] = x.shape;
    if (h % 2 !== 0 || w % 2 !== 0) throw new Error(`maxPool2: height and width must be even, got ${h}x${w}`);
    const y = tf.maxPool(x, 2, 2, 'valid');
    (args[1] as (t: Tensor[]) => void)([x, y]);
    return { value: y, gradFunc: (dy, [xs, ys]) => poolGrad(xs, ys, dy) };
  });

  return { sign, matMul, conv2d: conv(true), conv2dFirst: conv(false), maxPool2 };
}
