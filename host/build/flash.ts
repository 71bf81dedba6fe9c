/**
 * Loading a bitstream onto a dev board with openFPGALoader (`bitweave flash`): the board's
 * programmer from its description (flow.programmer.board), the bitstream `make bitstream`
 * built (build/bitstream/<board>/) or another file, and every failure as one line: no
 * openFPGALoader, no bitstream, an unknown board or one without an open flow, no board on
 * USB (openFPGALoader's own failure, read from its output), no permission to open it.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Board, boardFlow } from '../boards';
import { BitweaveError } from '../core/errors';
import { oneLineMessage } from '../core/text';
import { bitstreamFile, findTool, toolsPath } from './open-flow';

export interface FlashOptions {
  /** Default: the bitstream `make bitstream BOARD=<board>` writes. */
  bitstream?: string;
  /** ECP5: write the configuration flash (kept over power cycles) instead of the FPGA's SRAM. */
  writeFlash?: boolean;
  /** Milliseconds before openFPGALoader is given up (default 10 minutes: writing flash is slow). */
  timeoutMs?: number;
}

export interface FlashResult {
  board: string;
  bitstream: string;
  /** Where the bitstream went: the FPGA's configuration SRAM or the configuration flash. */
  memory: 'sram' | 'flash';
  command: string[];
  seconds: number;
}

/** openFPGALoader's arguments for a board and a bitstream. */
export function flashArgs(board: Board, bitstream: string, writeFlash = false): string[] {
  const flow = boardFlow(board);
  // iCE40 boards have no SRAM path in openFPGALoader here: it always writes their SPI flash
  return ['-b', flow.programmer.board, ...(writeFlash && flow.family === 'ecp5' ? ['--write-flash'] : []), bitstream];
}

/** One line for what openFPGALoader printed when it failed. */
export function explainFlashFailure(board: Board, output: string, code: number | null): string {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  const first = (re: RegExp) => lines.find((l) => re.test(l));
  const quote = (l: string | undefined) => oneLineMessage(l ?? lines[lines.length - 1] ?? `exit ${code}`, 160);
  const who = board.flow?.programmer.board ?? board.name;
  const access = first(/LIBUSB_ERROR_ACCESS|permission|access denied|usb_open\(\) failed|-4 \(/i);
  if (access) return `cannot open ${board.name}'s USB device (openFPGALoader: ${quote(access)}): no permission? add a udev rule for it or run as a user in the plugdev/dialout group`;
  const absent = first(/device not found|no device found|unable to open ftdi device|no cable|cable not found|failed to claim cable|JTAG init failed|LIBUSB_ERROR_NO_DEVICE|no USB device/i);
  if (absent) return `no ${board.name} board found on USB (openFPGALoader: ${quote(absent)}); connect it and try again`;
  const unknown = first(/cannot find board|unknown board|board .* not supported/i);
  if (unknown) return `this openFPGALoader does not know the board '${who}' (${quote(unknown)}); a newer openFPGALoader may`;
  return `openFPGALoader failed (exit ${code}): ${quote(first(/error|fail/i))}`;
}

export function flashBoard(board: Board, opts: FlashOptions = {}): FlashResult {
  const flow = boardFlow(board);
  const bitstream = path.resolve(opts.bitstream ?? bitstreamFile(board));
  let st: fs.Stats;
  try {
    st = fs.statSync(bitstream);
  } catch {
    throw new BitweaveError(`bitstream not found: ${bitstream}${opts.bitstream === undefined ? ` (build it with: make bitstream BOARD=${board.name})` : ''}`);
  }
  if (!st.isFile()) throw new BitweaveError(`bitstream ${bitstream} is not a regular file`);
  if (st.size === 0) throw new BitweaveError(`bitstream ${bitstream} is empty`);
  const env = { ...process.env, PATH: toolsPath() };
  const loader = findTool('openFPGALoader', env.PATH);
  if (!loader) throw new BitweaveError('openFPGALoader not found (make setup installs the Debian package openfpgaloader)');
  const args = flashArgs(board, bitstream, opts.writeFlash);
  const t = Date.now();
  const r = spawnSync(loader, args, { env, encoding: 'utf8', timeout: opts.timeoutMs ?? 600_000, maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
  const seconds = (Date.now() - t) / 1000;
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') throw new BitweaveError(`openFPGALoader did not finish within ${Math.round((opts.timeoutMs ?? 600_000) / 1000)} s`);
  if (r.error) throw new BitweaveError(`openFPGALoader could not run: ${r.error.message}`);
  if (r.status !== 0) throw new BitweaveError(explainFlashFailure(board, `${r.stdout}\n${r.stderr}`, r.status));
  return {
    board: board.name,
    bitstream,
    memory: flow.family === 'ice40' || opts.writeFlash ? 'flash' : 'sram',
    command: ['openFPGALoader', ...args],
    seconds,
  };
}
