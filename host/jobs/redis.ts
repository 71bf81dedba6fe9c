/**
 * The Redis connection of the batch commands and the worker.
 *
 * The first connection is bounded: an unreachable or wrong address is one error after
 * `timeoutMs`, not a hang. Once connected, a lost connection is retried for ever (every
 * command waits in ioredis' offline queue, maxRetriesPerRequest: null, which BullMQ's
 * workers need anyway), so a Redis restart delays a job but loses nothing.
 */
import Redis from 'ioredis';
import { BitweaveError, isUserError } from '../core/errors';
import { oneLine } from '../core/files';

export type RedisClient = Redis;

/**
 * `redis://[user:password@]host[:port][/db]` or `rediss://…` (TLS), checked before use: a
 * typo is one line, not a connection attempt to somewhere else.
 */
export function parseRedisUrl(s: string): URL {
  const bad = (why: string): never => {
    throw new BitweaveError(`--redis must be a URL like redis://host:6379[/db] (${why}), got '${redactUrl(s).slice(0, 200)}'`);
  };
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return bad('not a URL');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') bad(`the scheme is '${u.protocol.replace(/:$/, '')}', not redis or rediss`);
  if (!u.hostname) bad('no host');
  if (u.pathname !== '' && u.pathname !== '/' && !/^\/\d{1,5}$/.test(u.pathname)) bad('the path may only be a database number');
  if (u.search || u.hash) bad('no query or fragment is taken');
  return u;
}

/** The URL without its password, for messages and logs. */
export function redactUrl(s: string): string {
  // as typed, but for the password (URL parsing would also normalise the rest)
  return s.replace(/^([a-z][a-z0-9+.-]*:\/\/[^@/]*?):[^@/]*@/i, '$1:***@');
}

export interface ConnectOptions {
  /** Give up the first connection after this long (ms). */
  timeoutMs: number;
  /** Told when the connection drops and comes back (one line each). */
  onNote?: (line: string) => void;
}

/** A connected client, or a BitweaveError naming the address and what failed. */
export async function connectRedis(url: string, o: ConnectOptions): Promise<RedisClient> {
  const u = parseRedisUrl(url);
  const where = redactUrl(url);
  const client = new Redis(u.toString(), {
    lazyConnect: true,
    maxRetriesPerRequest: null,
    // quick at first (a restart takes a second), then every 2 s for as long as it takes
    retryStrategy: (times) => Math.min(100 * times, 2000),
    connectTimeout: Math.min(o.timeoutMs, 10_000),
    connectionName: 'bitweave',
  });
  let lastError = '';
  client.on('error', (e: Error) => {
    lastError = oneLine(e);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new BitweaveError(`cannot reach Redis at ${where}${lastError ? `: ${lastError}` : ''} (gave up after ${(o.timeoutMs / 1000).toFixed(1)} s)`)), o.timeoutMs);
      client.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
      // connect() rejects on the first failed attempt while ioredis keeps retrying: the timer decides
      client.connect().catch(() => {});
    });
  } catch (e) {
    client.disconnect();
    throw e;
  }
  // ioredis connects on database 0 when selecting the asked one fails: check it did not
  const db = Number(u.pathname.slice(1) || 0);
  if (db !== 0) {
    try {
      await client.select(db);
    } catch (e) {
      client.disconnect();
      throw new BitweaveError(`Redis at ${where} has no database ${db}: ${oneLine(e)}`);
    }
  }
  // from here on the connection is retried for ever; say so once per outage
  let down = false;
  client.on('close', () => {
    if (!down && client.status !== 'end') o.onNote?.(`lost the connection to Redis at ${where}${lastError ? ` (${lastError})` : ''}; reconnecting`);
    down = true;
  });
  client.on('ready', () => {
    if (down) o.onNote?.(`reconnected to Redis at ${where}`);
    down = false;
  });
  return client;
}

/** Close without waiting on a server that may be gone. */
export function disconnectRedis(client: RedisClient | undefined): void {
  try {
    client?.disconnect();
  } catch {
    // already closed
  }
}

/**
 * Errors Redis or its client raise (a reply error such as OOM or NOAUTH, a closed
 * connection) as one user-facing line; anything else is left as it is (a bug).
 */
export function redisError(e: unknown, url: string): unknown {
  if (isUserError(e) || !(e instanceof Error)) return e;
  const redisLike = ['ReplyError', 'MaxRetriesPerRequestError', 'AbortError', 'ConnectionClosedError'].includes(e.name) ||
    /Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND/.test(e.message);
  return redisLike ? new BitweaveError(`Redis at ${redactUrl(url)}: ${oneLine(e)}`) : e;
}
