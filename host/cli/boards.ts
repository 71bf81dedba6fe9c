/**
 * `bitweave boards [--json]`: the board descriptions in boards/.
 * `bitweave devices [--port p] [--json]`: the OpenCL platforms and devices this machine has,
 * and the serial ports with a bitweave dev board behind them (the ones that answer the
 * link's version query; --port adds a port to ask, e.g. the simulated board's pty).
 * Registered by commands.ts (extraCommands.push(boardsCommand, devicesCommand)).
 */
import { CommandModule } from 'yargs';
import { boardArray } from '../build/sizing';
import { Board, listBoards } from '../boards';
import { allDevices, OpenCLUnavailableError } from '../opencl';
import { findBoards } from '../board/discover';
import { stringOption } from './options';

function gib(bytes: number | null): string {
  if (bytes === null) return '?';
  const g = bytes / 2 ** 30;
  if (g >= 1) return `${Number.isInteger(g) ? g : g.toFixed(1)} GiB`;
  return bytes >= 2 ** 20 ? `${Math.round(bytes / 2 ** 20)} MiB` : `${Math.round(bytes / 1024)} KiB`;
}

function memoryText(b: Board): string {
  const m = b.memory;
  if (m.type === 'host') return 'host RAM';
  const size = m.bankBytes !== null && m.banks > 1 ? `${m.banks}x${gib(m.bankBytes)}` : gib(m.totalBytes);
  return `${size} ${m.type}${m.bandwidthGBps !== null ? ` ${m.bandwidthGBps} GB/s` : ''}`;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ')).join('\n');
}

function boardsText(boards: Board[]): string {
  const rows = [['name', 'toolchain', 'part', 'clock', 'memory', 'array', 'platform']];
  for (const b of boards) {
    const a = { ...boardArray(b), word: b.defaultArray.word };
    rows.push([
      b.name,
      b.toolchain.name,
      b.part ?? '-',
      b.clock.kernelMHz !== null ? `${b.clock.kernelMHz} MHz` : '-',
      memoryText(b),
      `${a.rows}x${a.cols}x${a.word}${a.estimate ? '*' : ''}`,
      b.platform,
    ]);
  }
  return `${table(rows)}\n\n* array size {rows x cols x word}: an estimate (Xilinx boards: sized from yosys per-PE figures of the RTL; others: the board file's default)`;
}

type JsonFlag = { json: boolean };

export const boardsCommand: CommandModule<object, JsonFlag> = {
  command: 'boards',
  describe: 'list the target boards (part, platform, clock, memory, default array size)',
  builder: (y) => y.option('json', { type: 'boolean', default: false, describe: 'machine-readable output' }),
  handler: (a) => {
    const boards = listBoards();
    // `file` is where it was read from on this machine, not part of the description
    process.stdout.write((a.json ? JSON.stringify(boards.map(({ file: _file, ...b }) => b)) : boardsText(boards)) + '\n');
  },
};

type DevicesArgs = JsonFlag & { port?: string };

export const devicesCommand: CommandModule<object, DevicesArgs> = {
  command: 'devices',
  describe: 'list OpenCL platforms and devices (PoCL, XRT, Intel FPGA runtime) and serial ports with a bitweave dev board',
  builder: (y) =>
    y
      .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' })
      .option(...stringOption('port', 'also ask this serial port for a bitweave board (e.g. the pty of `bitweave board-sim`)')) as never,
  handler: async (a) => {
    let devices: ReturnType<typeof allDevices> = [];
    let unavailable: OpenCLUnavailableError | null = null;
    try {
      devices = allDevices();
    } catch (e) {
      if (!(e instanceof OpenCLUnavailableError)) throw e;
      unavailable = e;
    }
    const boards = await findBoards(a.port ? [a.port] : []);
    if (devices.length === 0 && boards.length === 0) {
      throw unavailable ?? new OpenCLUnavailableError("OpenCL platforms are installed but expose no device (check POCL_DEVICES, or the board's driver and its ICD file), and no serial port answers as a bitweave board");
    }
    const platforms = [...new Set(devices.map((d) => d.platform))];
    const list = devices.map((d) => {
      const i = d.info();
      const p = d.platform.info();
      return {
        kind: 'opencl' as const,
        platformIndex: platforms.indexOf(d.platform),
        deviceIndex: d.index,
        platform: p.name,
        platformVendor: p.vendor,
        platformVersion: p.version,
        ...i,
      };
    });
    const serial = boards.map((b) => ({ kind: 'board' as const, port: b.port, ...b.info }));
    if (a.json) {
      process.stdout.write(JSON.stringify([...list, ...serial]) + '\n');
      return;
    }
    const parts: string[] = [];
    if (list.length) {
      const rows = [['#', 'type', 'device', 'CUs', 'clock', 'global', 'max alloc', 'local', 'version']];
      for (const d of list) {
        rows.push([
          `${d.platformIndex}.${d.deviceIndex}`,
          d.types.join(','),
          `${d.name} (${d.vendor})`,
          String(d.computeUnits),
          `${d.maxClockMHz} MHz`,
          gib(d.globalMemBytes),
          gib(d.maxAllocBytes),
          `${Math.round(d.localMemBytes / 1024)} KiB`,
          d.version,
        ]);
      }
      const heads = platforms.map((p, i) => `platform ${i}: ${p.info().name} (${p.info().vendor}), ${p.info().version}`);
      parts.push(`${heads.join('\n')}\n\n${table(rows)}`);
    }
    if (serial.length) {
      const rows = [['port', 'array', 'clock', 'baud', 'weights', 'arena']];
      for (const b of serial) {
        rows.push([b.port, `${b.rows}x${b.cols}x${b.word}`, `${(b.clockHz / 1e6).toFixed(1)} MHz`, String(b.baud), gib(b.weightRows * b.rows * 8), gib(b.arenaWords * 8)]);
      }
      parts.push(`bitweave boards on serial ports:\n\n${table(rows)}`);
    }
    process.stdout.write(parts.join('\n\n') + '\n');
  },
};
