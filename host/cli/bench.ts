/** `bitweave bench <what>`: benchmarks, each its own module; all print JSON with --json. */
import { CommandModule } from 'yargs';
import { benchModelCommand } from './bench-model';
import { benchGemmCommand, benchPeakCommand } from './bench-gemm';
import { benchServeCommand } from './bench-serve';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const benchCommands: CommandModule<any, any>[] = [];

benchCommands.push(benchModelCommand);
benchCommands.push(benchGemmCommand, benchPeakCommand);
benchCommands.push(benchServeCommand);
