/**
 * Output size of a sliding window along one axis (MXNet's conventions): the formula every
 * shape inference, validator, program encoder and oracle uses.
 *   floor((size + 2·pad − kernel) / stride) + 1, or with `ceil` MXNet's 'full' rounding;
 * 0 when the window does not fit at all.
 */
export function windowOut(size: number, kernel: number, stride: number, pad: number, ceil = false): number {
  const span = size + 2 * pad - kernel;
  if (span < 0) return 0;
  return (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
}
