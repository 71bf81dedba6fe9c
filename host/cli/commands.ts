/** Top-level commands that live in their own modules (registered by main.ts). */
import { CommandModule } from 'yargs';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const extraCommands: CommandModule<any, any>[] = [];
