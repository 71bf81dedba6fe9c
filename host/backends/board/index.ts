/**
 * The board backend: device segments run on a dev board's SoC (sim/soc: the RTL array with
 * on-chip memories) over its UART link (host/board/), or on the Verilator model of the
 * same SoC behind a pty. The board's INFO answer gives the array the programs are encoded
 * for; a program is laid out for the board's memories (host/board/layout.ts) and refused
 * with one line, before anything is sent, when it does not fit. The port is held only
 * while a call runs, so sessions (and processes) take turns on one board: each program
 * carries a random tag that the upload leaves in the descriptor memory's last word, and a
 * call re-sends a segment's descriptors, parameters and weights only when the board holds
 * another tag (another segment, another session, a power cycle).
 */
import { randomInt } from 'node:crypto';
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
  /** Link settings (reset and fast baud rates, reply timeout, attempts). */
  link?: LinkOptions;
  /** Milliseconds one run may take before the board counts as hung (default 120,000). */
  runTimeoutMs?: number;
}

interface BoardSegment {
  bp: BoardProgram;
  /** Written after the upload into the descriptor memory's last word. */
  tag: number;
}

export class BoardBackend extends AcceleratorBackend<BoardSegment> {
  readonly name = 'board';
  /** The board computes while the link is awaited asynchronously. */
  override readonly overlapsHost = true;
  private board: BoardInfo | null = null;
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
    this.checkModel(model); // a model the array cannot run is refused before the board is opened
    if (!this.board) this.board = await this.withLink((link) => link.info());
    await super.load(model);
  }

  /** The port, opened for one call and closed after it (another session may use the board next). */
  private async withLink<T>(fn: (link: BoardLink) => Promise<T>): Promise<T> {
    const link = await BoardLink.open(this.port, this.opts.link);
    try {
      const fast = this.opts.link?.fastBaud;
      if (fast !== undefined) await link.useBaud(fast, this.board ?? (await link.info()));
      return await fn(link);
    } finally {
      await link.close();
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
    return { bp: boardProgram(prog, this.info, `board backend: segment ${prog.segment}`), tag: randomInt(1, 2 ** 32) };
  }

  protected override imagesPerCall(prog: LayerProgram): number {
    const seg = this.segments.get(prog.segment);
    return Math.max(1, Math.min(super.imagesPerCall(prog), seg ? seg.dev.bp.imagesPerRun : 1));
  }

  /** Sends a segment's program unless the board holds it already (its tag in the last descriptor word). */
  private async upload(link: BoardLink, seg: BoardSegment): Promise<void> {
    const tagAt = this.info.descDepth - 1;
    if ((await link.read('desc', tagAt, 1))[0] === seg.tag) return;
    await link.write('desc', tagAt, new Uint32Array([0]));
    await link.write('desc', 0, seg.bp.descriptors);
    await link.write('param', 0, new Uint32Array(seg.bp.params.buffer, seg.bp.params.byteOffset, seg.bp.params.length));
    await link.write('weight', 0, seg.bp.weights);
    await link.write('desc', tagAt, new Uint32Array([seg.tag]));
  }

  protected async execute(seg: DeviceSegment<BoardSegment>, arena: Uint32Array, images: number): Promise<void> {
    await this.withLink((link) => this.run(link, seg, arena, images));
  }

  private async run(link: BoardLink, { prog, dev }: DeviceSegment<BoardSegment>, arena: Uint32Array, images: number): Promise<void> {
    const t0 = performance.now();
    await this.upload(link, dev);
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

  protected releaseSegment(): void {}
}

function errBitNames(err: number): string {
  const names = Object.entries(RTL_ERR_BITS).filter(([, bit]) => err & bit).map(([k]) => k);
  return names.length ? names.join(', ') : 'unknown';
}
