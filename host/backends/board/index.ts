/**
 * The board backend: device segments run on a dev board's SoC (sim/soc: the RTL array with
 * on-chip memories) over its UART link (host/board/), or on the Verilator model of the
 * same SoC behind a pty. The board's INFO answer gives the array the programs are encoded
 * for; a program is laid out for the board's memories (host/board/layout.ts) and refused
 * with one line, before anything is sent, when it does not fit. One segment's program
 * is resident on the board at a time: a model with several device segments re-sends a
 * segment's descriptors, parameters and weights when it is its turn.
 */
import { performance } from 'node:perf_hooks';
import { BitweaveError } from '../../core/errors';
import { ArrayParams } from '../../array/params';
import { KernelLimits, rtlLimits } from '../../array/descriptor';
import { LayerProgram } from '../../array/program';
import { programCycles } from '../../array/cycles';
import { RTL_ERR_BITS } from '../../array/limits';
import { CompiledModel } from '../../compile/model';
import { BoardLink, BoardError, LinkOptions } from '../../board/link';
import { BoardInfo } from '../../board/protocol';
import { BoardProgram, boardProgram } from '../../board/layout';
import { AcceleratorBackend, AcceleratorOptions, DeviceSegment } from '../accelerator';

export interface BoardOptions extends AcceleratorOptions {
  /** Serial port of the board: a USB UART (/dev/ttyUSB0) or the simulated SoC's pty (default: env BITWEAVE_BOARD_PORT). */
  port?: string;
  /** Link settings (baud, reply timeout, attempts). */
  link?: LinkOptions;
  /** Milliseconds one run may take before the board counts as hung (default 120,000). */
  runTimeoutMs?: number;
}

interface BoardSegment {
  bp: BoardProgram;
}

export class BoardBackend extends AcceleratorBackend<BoardSegment> {
  readonly name = 'board';
  private link: BoardLink | null = null;
  private board: BoardInfo | null = null;
  /** The segment whose program the board holds. */
  private resident: BoardSegment | null = null;
  private readonly runTimeoutMs: number;
  private readonly runs: { segment: number; images: number; cycles: number; predicted: number }[] = [];

  private readonly port: string;

  constructor(private readonly opts: BoardOptions = {}) {
    super('board', opts, 'rtl');
    const port = opts.port || process.env.BITWEAVE_BOARD_PORT;
    if (!port) throw new BitweaveError('board backend: give the serial port of the board (--port, e.g. /dev/ttyUSB0, or env BITWEAVE_BOARD_PORT)');
    this.port = port;
    this.runTimeoutMs = opts.runTimeoutMs ?? 120_000;
  }

  /** The board's INFO answer (after load). */
  get info(): BoardInfo {
    if (!this.board) throw new BitweaveError('board backend: not connected (load a model first)');
    return this.board;
  }

  override async load(model: CompiledModel): Promise<void> {
    if (!this.link) {
      const link = await BoardLink.open(this.port, this.opts.link);
      try {
        this.board = await link.info();
      } catch (e) {
        await link.close();
        throw e;
      }
      this.link = link;
    }
    this.resident = null;
    try {
      await super.load(model);
    } catch (e) {
      // a model the board cannot take leaves the port free for the next user
      const link = this.link;
      this.link = null;
      await link?.close();
      throw e;
    }
  }

  protected array(): ArrayParams {
    const b = this.info;
    if (b.word !== 64) throw new BoardError(`board at ${this.port}: WORD ${b.word} is not the 64 this bitweave packs`);
    return { rows: b.rows, cols: b.cols, word: 64, accBits: b.accBits, drain: b.drain };
  }

  protected limits(): KernelLimits {
    const b = this.info;
    return { ...rtlLimits({ rows: b.rows, accBits: b.accBits, maxOutBits: b.maxOutBits, paramDepth: b.paramDepth }), target: `the board's array (${b.rows}x${b.cols})` };
  }

  protected prepare(prog: LayerProgram): BoardSegment {
    return { bp: boardProgram(prog, this.info, `board backend: segment ${prog.segment}`) };
  }

  protected override imagesPerCall(prog: LayerProgram): number {
    const seg = this.segments.get(prog.segment);
    return Math.max(1, Math.min(super.imagesPerCall(prog), seg ? seg.dev.bp.imagesPerRun : 1));
  }

  /** Sends a segment's program unless the board holds it already. */
  private async upload(seg: BoardSegment): Promise<void> {
    if (this.resident === seg) return;
    const link = this.link!;
    this.resident = null;
    await link.write('desc', 0, seg.bp.descriptors);
    await link.write('param', 0, new Uint32Array(seg.bp.params.buffer, seg.bp.params.byteOffset, seg.bp.params.length));
    await link.write('weight', 0, seg.bp.weights);
    this.resident = seg;
  }

  protected async execute({ prog, dev }: DeviceSegment<BoardSegment>, arena: Uint32Array, images: number): Promise<void> {
    const link = this.link!;
    const t0 = performance.now();
    await this.upload(dev);
    const aw = prog.arenaWords;
    // only the input regions travel to the board; outputs come back region by region
    for (let i = 0; i < images; i++) {
      for (const r of prog.inputs) {
        const at = 2 * (i * aw + r.offset);
        await link.write('arena', at, arena.subarray(at, at + 2 * r.words));
      }
    }
    await link.start(prog.layers, images, aw);
    const s = await link.waitDone(this.runTimeoutMs);
    if (s.err !== 0) throw new BoardError(`board at ${link.path}: the array stopped with error bits 0x${s.err.toString(16)} (${errBitNames(s.err)})`);
    for (let i = 0; i < images; i++) {
      for (const r of prog.outputs) {
        const at = 2 * (i * aw + r.offset);
        arena.set(await link.read('arena', at, 2 * r.words), at);
      }
    }
    const ms = performance.now() - t0;
    // the SoC counts the cycles of a whole run; the layers' shares come from the cycle
    // model (exact for the RTL array; measuredCycles() lets tests compare the totals)
    const model = programCycles(prog, images, this.array());
    const predicted = model.reduce((a, l) => a + l.cycles, 0) || 1;
    const first = this.model!.segments[prog.segment].start;
    model.forEach((l, i) => this.record(first + i, (ms * l.cycles) / predicted, (s.cycles * l.cycles) / predicted, l.macs));
    this.runs.push({ segment: prog.segment, images, cycles: s.cycles, predicted });
  }

  /** Every run so far: the SoC's cycle count beside the cycle model's prediction. */
  measuredCycles(): { segment: number; images: number; cycles: number; predicted: number }[] {
    return [...this.runs];
  }

  protected releaseSegment(dev: BoardSegment): void {
    if (this.resident === dev) this.resident = null;
  }

  override async dispose(): Promise<void> {
    await super.dispose();
    const link = this.link;
    this.link = null;
    if (link) await link.close();
  }
}

function errBitNames(err: number): string {
  const names = Object.entries(RTL_ERR_BITS).filter(([, bit]) => err & bit).map(([k]) => k);
  return names.length ? names.join(', ') : 'unknown';
}
