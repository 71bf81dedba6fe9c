/**
 * `bitweave board-sim [--link PATH] [--trace FILE.fst]`: the Verilator model of the whole
 * dev-board SoC (make soc-sim) behind a pseudo-terminal, running until Ctrl-C. It prints
 * the pty to give other commands: `bitweave eval … --backend board --port <pty>`.
 * Registered by commands.ts.
 */
import { Argv, CommandModule } from 'yargs';
import { startSimulatedBoard } from '../board/sim';
import { stringOption } from './options';

interface Args {
  link?: string;
  trace?: string;
  json: boolean;
}

export const boardSimCommand: CommandModule<object, Args> = {
  command: 'board-sim',
  describe: 'run the simulated dev board (the whole SoC under Verilator) behind a pseudo-terminal until Ctrl-C',
  builder: (y: Argv) =>
    y
      .option(...stringOption('link', 'also make this path a symbolic link to the pty'))
      .option(...stringOption('trace', 'write an FST waveform of the whole run to this file (large)'))
      .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' }) as unknown as Argv<Args>,
  handler: async (a) => {
    const sim = await startSimulatedBoard({ link: a.link, trace: a.trace });
    process.stdout.write(a.json ? JSON.stringify({ port: sim.port, link: a.link ?? null, pid: sim.process.pid }) + '\n' : `simulated board on ${sim.port}${a.link ? ` (${a.link})` : ''}; Ctrl-C stops it\n`);
    await new Promise<void>((resolve) => {
      const stop = () => void sim.stop().then(resolve);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      sim.process.once('exit', () => resolve());
    });
  },
};
