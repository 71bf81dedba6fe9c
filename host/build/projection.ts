/**
 * Projected throughput of the array on a board: the board's kernel clock over the cycle
 * model's cycles per image (host/array/cycles.ts). A projection from cycle counts (host
 * transfers, host layers and the achieved clock ignored), never a measurement.
 */
import { BitweaveError } from '../core/errors';
import type { Board } from '../boards';

export interface Projection {
  board: string;
  clockMHz: number;
  cyclesPerImage: number;
  imagesPerSecond: number;
  /** Always true: a figure from the cycle model and the board's clock, not a measurement. */
  projected: true;
  label: string;
}

export function projectThroughput(board: Board, cyclesPerImage: number, clockMHz = board.clock.kernelMHz): Projection {
  if (clockMHz === null || !(clockMHz > 0)) throw new BitweaveError(`board '${board.name}' has no kernel clock to project with`);
  if (!(cyclesPerImage > 0)) throw new BitweaveError(`cycles per image must be positive, got ${cyclesPerImage}`);
  const ips = (clockMHz * 1e6) / cyclesPerImage;
  return {
    board: board.name, clockMHz, cyclesPerImage, imagesPerSecond: ips, projected: true,
    label: `projected ${ips.toFixed(0)} images/s on ${board.name} at ${clockMHz} MHz (cycle model, not measured)`,
  };
}
