/** Top-level commands that live in their own modules (registered by main.ts). */
import { CommandModule } from 'yargs';
import { boardsCommand, devicesCommand } from './boards';
import { deployCommand } from './deploy';
import { flashCommand } from './flash';
import { boardSimCommand } from './board-sim';
import { exportOnnxCommand } from './export-onnx';
import { trainCommand } from './train';
import { compileCommand } from './compile';
import { projectCommand } from './project';
import { serveCommand } from './serve';
import { profileCommand } from './profile';
import { batchCommand, workerCommand } from './batch';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const extraCommands: CommandModule<any, any>[] = [];

extraCommands.push(exportOnnxCommand);
extraCommands.push(trainCommand);
extraCommands.push(boardsCommand, devicesCommand);
extraCommands.push(compileCommand, projectCommand);
extraCommands.push(deployCommand);
extraCommands.push(flashCommand, boardSimCommand);
extraCommands.push(serveCommand);
extraCommands.push(profileCommand);
extraCommands.push(batchCommand, workerCommand);
