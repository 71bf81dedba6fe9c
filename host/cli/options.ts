/** Option parsing shared by CLI commands. */
import { BitweaveError } from '../core/errors';

/** `--input-shape C,H,W` (or CxHxW) -> [C, H, W]. */
export function parseShape(s: string | undefined): number[] | undefined {
  if (s === undefined) return undefined;
  const dims = s.split(/[,x]/).map((d) => Number(d.trim()));
  if (dims.length !== 3 || dims.some((d) => !Number.isInteger(d) || d < 1 || d > 65536)) {
    throw new BitweaveError(`--input-shape must be C,H,W with positive integers, got '${s}'`);
  }
  return dims;
}
