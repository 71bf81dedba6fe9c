/**
 * `bitweave flash --board <b> [--bitstream file] [--write-flash] [--json]`: loads the
 * bitstream `make bitstream BOARD=<b>` built (or another) onto the board with
 * openFPGALoader (host/build/flash.ts). Registered by commands.ts.
 */
import { Argv, CommandModule } from 'yargs';
import { loadBoard } from '../boards';
import { flashBoard } from '../build/flash';
import { stringOption } from './options';

interface Args {
  board: string;
  bitstream?: string;
  'write-flash': boolean;
  json: boolean;
}

export const flashCommand: CommandModule<object, Args> = {
  command: 'flash',
  describe: 'load a bitstream onto a dev board (ulx3s, icebreaker) with openFPGALoader',
  builder: (y: Argv) =>
    y
      .option(...stringOption('board', "a board with an open flow (see 'bitweave boards')", { demandOption: true }))
      .option(...stringOption('bitstream', 'bitstream file (default: build/bitstream/<board>/, from make bitstream BOARD=<board>)'))
      .option('write-flash', { type: 'boolean', default: false, describe: 'ECP5: write the configuration flash (kept over power cycles) instead of the FPGA (iCE40 boards: always the flash)' })
      .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' }) as unknown as Argv<Args>,
  handler: (a) => {
    const board = loadBoard(a.board);
    const r = flashBoard(board, { bitstream: a.bitstream, writeFlash: a['write-flash'] });
    process.stdout.write(a.json ? JSON.stringify(r) + '\n' : `flashed ${r.bitstream} to the ${r.board}'s ${r.memory === 'sram' ? 'FPGA (SRAM, until power-off)' : 'configuration flash'} in ${r.seconds.toFixed(1)} s\n`);
  },
};
