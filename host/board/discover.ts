/**
 * Serial ports with a bitweave board behind them: every USB serial port of this machine
 * (/dev/ttyUSB*, /dev/ttyACM*) and the ports given, each asked the version query (INFO)
 * with a short timeout. Ports that cannot be opened or do not answer are left out.
 */
import * as fs from 'node:fs';
import { BoardLink } from './link';
import { BoardInfo } from './protocol';

export interface FoundBoard {
  port: string;
  info: BoardInfo;
}

/** USB serial ports of this machine (Linux device names). */
export function serialPorts(): string[] {
  try {
    return fs.readdirSync('/dev').filter((n) => /^tty(USB|ACM)\d+$/.test(n)).sort().map((n) => `/dev/${n}`);
  } catch {
    return [];
  }
}

export async function findBoards(extra: string[] = [], replyTimeoutMs = 500): Promise<FoundBoard[]> {
  const found: FoundBoard[] = [];
  for (const port of [...new Set([...serialPorts(), ...extra])]) {
    let link: BoardLink | null = null;
    try {
      link = await BoardLink.open(port, { replyTimeoutMs, attempts: 1 });
      found.push({ port, info: await link.info() });
    } catch {
      // not a bitweave board (or busy, or gone): not listed
    } finally {
      await link?.close();
    }
  }
  return found;
}
