/** `bitweave bench <what>`: benchmarks, each its own module; all print JSON with --json. */
import { CommandModule } from 'yargs';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const benchCommands: CommandModule<any, any>[] = [];
