/**
 * The host end of the dev-board link: a serial port (the npm `serialport` package: a
 * board's USB UART, or the pty of the simulated SoC) speaking docs/BOARD-PROTOCOL.md.
 * Every wait has a timeout; a lost or corrupted frame is retried (every command is safe
 * to repeat: START re-runs the same program on the same inputs); a board that stops
 * answering or a port that is not a bitweave board ends in one BoardError line.
 */
import { SerialPort } from 'serialport';
import { BitweaveError } from '../core/errors';
import { oneLineMessage as oneLine } from '../core/text';
import {
  baudPayload, BoardInfo, BoardStatus, CMD, decodeInfo, decodeStatus, E_BUSY, E_CRC, encodeRequest, MAX_WORDS, MEM, Memory,
  PROTOCOL_VERSION, readPayload, Reply, ReplyParser, startPayload, STATUS_NAMES, writePayload,
} from './protocol';

export class BoardError extends BitweaveError {}

export interface LinkOptions {
  /** Baud rate of the port when it opens: the board's reset rate (ignored by a pty); default 1,000,000. */
  baud?: number;
  /**
   * Another rate for the work (BAUD command, docs/BOARD-PROTOCOL.md), usually a faster one:
   * the board's clock over a whole number of clocks per bit (4 ..); `close()` returns the
   * board to its reset rate.
   */
  fastBaud?: number;
  /** Milliseconds to wait for one reply before retrying; default 2,000. */
  replyTimeoutMs?: number;
  /** Attempts per request; default 3. */
  attempts?: number;
}

export class BoardLink {
  private readonly parser = new ReplyParser();
  /** Sequence numbers start at random, so a late reply to an earlier user rarely matches. */
  private seq = Math.floor(Math.random() * 256);
  private waiter: ((r: Reply | 'corrupt') => void) | null = null;
  private portError: Error | null = null;
  /** Attempt number (0 = first) of the last request. */
  private lastAttempt = 0;
  private closed = false;
  /** Clocks per bit the board is at now and after reset (set by useBaud). */
  private rate: { now: number; reset: number; resetBaud: number } | null = null;

  private constructor(
    readonly path: string,
    private readonly port: SerialPort,
    private readonly replyTimeoutMs: number,
    private readonly attempts: number,
  ) {
    port.on('data', (chunk: Buffer) => {
      for (const r of this.parser.push(chunk)) {
        const w = this.waiter;
        if (w) w(r.corrupt ? 'corrupt' : r.reply);
      }
    });
    port.on('error', (e: Error) => {
      this.portError = e;
    });
    port.on('close', () => {
      this.closed = true;
    });
  }

  /** Opens the port (no query yet: `info()` says whether a bitweave board answers). */
  static async open(path: string, opts: LinkOptions = {}): Promise<BoardLink> {
    if (typeof path !== 'string' || path === '') throw new BoardError('board: give the serial port of the board (--port, e.g. /dev/ttyUSB0)');
    const port = new SerialPort({ path, baudRate: opts.baud ?? 1_000_000, autoOpen: false });
    await new Promise<void>((resolve, reject) => {
      port.open((e) =>
        e
          ? reject(new BoardError(/cannot lock port/i.test(e.message) ? `board at ${path} is in use by another program (its port is locked)` : `board: cannot open ${path}: ${oneLine(e.message)}`))
          : resolve(),
      );
    });
    // whatever an earlier user left unread is not an answer to us
    await new Promise<void>((resolve) => port.flush(() => resolve()));
    return new BoardLink(path, port, opts.replyTimeoutMs ?? 2000, opts.attempts ?? 3);
  }

  /** One request, retried on silence or corruption; resolves with the OK reply's payload. */
  async request(cmd: number, payload?: Uint8Array, what = 'request'): Promise<Buffer> {
    let last = 'no answer';
    for (let attempt = 0; attempt < this.attempts; attempt++) {
      this.lastAttempt = attempt;
      if (this.closed || this.portError) throw new BoardError(`board at ${this.path}: the port failed (${oneLine(this.portError?.message ?? 'closed')})`);
      const seq = (this.seq = (this.seq + 1) & 0xff);
      this.parser.reset();
      const reply = await this.exchange(encodeRequest(cmd, seq, payload), seq);
      if (reply === 'timeout') {
        last = `no answer within ${this.replyTimeoutMs} ms`;
        continue;
      }
      if (reply === 'corrupt') {
        last = 'a corrupted reply';
        continue;
      }
      if (reply.status === E_CRC) {
        last = 'the board received a corrupted frame';
        continue;
      }
      if (reply.status !== 0) {
        const e = new BoardError(`board at ${this.path}: ${what} refused: ${STATUS_NAMES[reply.status] ?? `status ${reply.status}`}`);
        (e as BoardError & { status: number }).status = reply.status;
        throw e;
      }
      return reply.payload;
    }
    throw new BoardError(`board at ${this.path}: ${what} failed after ${this.attempts} attempts (${last})`);
  }

  /** Sends a frame and waits for the reply with its `seq` (replies to other requests are late answers: skipped). */
  private exchange(frame: Buffer, seq: number): Promise<Reply | 'corrupt' | 'timeout'> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => done('timeout'), this.replyTimeoutMs);
      const done = (r: Reply | 'corrupt' | 'timeout') => {
        clearTimeout(timer);
        this.waiter = null;
        resolve(r);
      };
      this.waiter = (r) => {
        if (r === 'corrupt' || r.seq === seq) done(r);
      };
      this.port.write(frame, (e) => {
        if (e) {
          this.portError = e;
          done('timeout');
        }
      });
    });
  }

  /** The board's geometry and memories; a BoardError when the port is not a bitweave board. */
  async info(): Promise<BoardInfo> {
    let p: Buffer;
    try {
      p = await this.request(CMD.INFO, undefined, 'the version query');
    } catch (e) {
      if (e instanceof BoardError && /attempts/.test(e.message)) {
        throw new BoardError(`${this.path} is not a bitweave board (no answer to the version query)`);
      }
      throw e;
    }
    const info = decodeInfo(p);
    if (!info) throw new BoardError(`${this.path} is not a bitweave board (its answer to the version query has no bitweave magic)`);
    if (info.version !== PROTOCOL_VERSION) {
      throw new BoardError(`board at ${this.path} speaks link protocol version ${info.version}; this bitweave speaks ${PROTOCOL_VERSION}`);
    }
    return info;
  }

  /** Writes 32-bit words into a memory, MAX_WORDS per frame. */
  async write(mem: Memory, addr: number, words: Uint32Array): Promise<void> {
    for (let i = 0; i < words.length; i += MAX_WORDS) {
      const part = words.subarray(i, Math.min(words.length, i + MAX_WORDS));
      await this.request(CMD.WRITE, writePayload(MEM[mem], addr + i, part), `writing ${mem} memory`);
    }
  }

  async read(mem: Memory, addr: number, count: number): Promise<Uint32Array> {
    const out = new Uint32Array(count);
    for (let i = 0; i < count; i += MAX_WORDS) {
      const n = Math.min(MAX_WORDS, count - i);
      const p = await this.request(CMD.READ, readPayload(MEM[mem], addr + i, n), `reading ${mem} memory`);
      if (p.length !== n * 4) throw new BoardError(`board at ${this.path}: READ returned ${p.length} bytes, expected ${n * 4}`);
      for (let k = 0; k < n; k++) out[i + k] = p.readUInt32LE(4 * k);
    }
    return out;
  }

  /** Starts a layer program; a repeated START the board already runs counts as started. */
  async start(layers: number, batch: number, arenaWords: number, descBase = 0): Promise<void> {
    try {
      await this.request(CMD.START, startPayload(layers, batch, arenaWords, descBase), 'START');
    } catch (e) {
      // after a lost reply the repeated START finds the first one running
      if ((e as { status?: number }).status === E_BUSY && this.lastAttempt > 0) return;
      throw e;
    }
  }

  async status(): Promise<BoardStatus> {
    return decodeStatus(await this.request(CMD.STATUS, undefined, 'STATUS'));
  }

  /**
   * Polls STATUS until the run is done; a BoardError after `timeoutMs`, or when the array
   * stays idle without having finished. One STATUS right after a short run can show the
   * array idle with its done flag not yet set: seen on the simulated SoC (a run of 826
   * cycles whose next STATUS said done; roughly one short run in 150 of the cut
   * zero-padding segments), cause not found in the RTL. So idle-and-not-done counts only
   * when three polls in a row agree.
   */
  async waitDone(timeoutMs: number): Promise<BoardStatus> {
    const t0 = Date.now();
    let wait = 1;
    let idle = 0;
    for (;;) {
      const s = await this.status();
      if (!s.busy && s.done) return s;
      idle = !s.busy && !s.done ? idle + 1 : 0;
      if (idle >= 3) throw new BoardError(`board at ${this.path}: the array is idle but did not finish the run (was it reset?)`);
      if (Date.now() - t0 > timeoutMs) throw new BoardError(`board at ${this.path}: the run did not finish within ${timeoutMs} ms (${s.cycles} cycles so far, layer ${s.layer})`);
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(50, wait * 2);
    }
  }

  /**
   * Switches the link to `baud`: the board answers BAUD at the current rate, then both
   * sides change. A rate the board cannot make within 2 % (its clock over a whole number of
   * clocks per bit, 4 .. 65,535) is a BoardError before anything is sent; one whose
   * character outlasts the board's link timeout is refused by the board (E_ARG).
   */
  async useBaud(baud: number, info: BoardInfo): Promise<void> {
    const reset = Math.round(info.clockHz / info.baud);
    const cpb = Math.round(info.clockHz / baud);
    if (!(Number.isFinite(baud) && baud > 0) || cpb < 4 || cpb > 65535 || Math.abs(info.clockHz / cpb - baud) > 0.02 * baud) {
      throw new BoardError(
        `board at ${this.path}: cannot run the link at ${Math.round(baud)} baud (its ${info.clockHz} Hz clock over a whole number of clocks per bit, ` +
          `4 .. 65535, within 2 %; at most ${Math.floor(info.clockHz / 4)} baud)`,
      );
    }
    if (cpb === (this.rate?.now ?? reset)) return;
    await this.request(CMD.BAUD, baudPayload(cpb), 'the link rate change');
    this.rate = { now: cpb, reset, resetBaud: info.baud };
    await this.setPortBaud(Math.round(info.clockHz / cpb));
  }

  private setPortBaud(baudRate: number): Promise<void> {
    return new Promise((resolve, reject) =>
      this.port.update({ baudRate }, (e) => (e ? reject(new BoardError(`board at ${this.path}: cannot set the port to ${baudRate} baud: ${oneLine(e.message)}`)) : resolve())),
    );
  }

  async close(): Promise<void> {
    if (this.closed || !this.port.isOpen) return;
    // back to the reset rate, so that the next user finds the board where INFO says it is
    if (this.rate && this.rate.now !== this.rate.reset && !this.portError) {
      try {
        await this.request(CMD.BAUD, baudPayload(this.rate.reset), 'the link rate change');
        this.rate.now = this.rate.reset;
        await this.setPortBaud(this.rate.resetBaud);
      } catch {
        // a board that no longer answers keeps its rate until reset (FIRE1 or power)
      }
    }
    await new Promise<void>((resolve) => this.port.close(() => resolve()));
    this.closed = true;
  }
}
