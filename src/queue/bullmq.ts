/**
 * Loading BullMQ on demand. `bullmq` (and its Redis driver `ioredis`) are optional peer
 * dependencies: they are imported only when a Redis URL is given (`--redis` or
 * `DEEPPROB_REDIS_URL`), so an installation without a queue stays light.
 */
import { DeepProbError } from '../utils/errors.js';
import { REDIS_ENV, redactedUrl, redisDbOf } from './redis_url.js';

/** The BullMQ module. */
export type BullMQ = typeof import('bullmq');

/** The versions this release was tested with. */
const INSTALL = 'npm install bullmq@6.7.6 ioredis@6.1.0';

let cached: Promise<BullMQ> | undefined;

/**
 * Import an optional package by a variable specifier, so that a bundler (esbuild, webpack) of a
 * program using `deepprob/node` neither fails on an optional peer that is not installed nor bundles
 * it: Node resolves it at run time, from this file's `node_modules`.
 */
function importOptional(name: 'bullmq' | 'ioredis'): Promise<unknown> {
  const spec: string = name;
  return import(/* @vite-ignore */ /* webpackIgnore: true */ spec);
}

/**
 * Import `bullmq` (checking that `ioredis` is there too).
 * @throws DeepProbError naming the missing package and the install command.
 */
export function loadBullMQ(): Promise<BullMQ> {
  cached ??= (async () => {
    for (const name of ['ioredis', 'bullmq'] as const) {
      try {
        await importOptional(name);
      } catch (e) {
        cached = undefined;
        const code = (e as NodeJS.ErrnoException).code;
        throw new DeepProbError(
          `the job queue (--redis, ${REDIS_ENV}) needs the optional package '${name}'` +
            `${code === 'ERR_MODULE_NOT_FOUND' ? ', which is not installed' : ` (${(e as Error).message})`}: ${INSTALL}`,
        );
      }
    }
    return (await importOptional('bullmq')) as BullMQ;
  })();
  return cached;
}

/** Redis took the connection (or none was refused) but did not answer a `PING` in time. */
export class RedisSilentError extends DeepProbError {
  constructor(message: string) {
    super(message);
    this.name = 'RedisSilentError';
  }
}

/**
 * Check that Redis answers within `timeoutMs` and has the URL's database (a `SELECT` of an index
 * beyond the server's `databases` fails only in the connection's background, and every command
 * of BullMQ then waits forever).
 * @throws DeepProbError naming the URL (its password redacted), and for a missing database the
 *   index and the server's number of databases when it tells it; a {@link RedisSilentError} when
 *   no answer came in `timeoutMs`.
 */
export async function pingRedis(url: string, timeoutMs = 5000): Promise<void> {
  await loadBullMQ();
  const mod = (await importOptional('ioredis')) as {
    default: new (
      url: string,
      o: object,
    ) => {
      ping(): Promise<string>;
      call(...args: (string | number)[]): Promise<unknown>;
      disconnect(): void;
      on(e: string, f: () => void): void;
    };
  };
  const db = redisDbOf(url);
  const client = new mod.default(url, {
    db: 0, // selected below, where a missing database is an error
    maxRetriesPerRequest: 0,
    lazyConnect: false,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  let timer: NodeJS.Timeout | undefined;
  let silent = false;
  try {
    await Promise.race([
      client.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => {
          silent = true;
          reject(new Error(`no answer in ${timeoutMs} ms`));
        }, timeoutMs);
      }),
    ]);
  } catch (e) {
    const message = `cannot reach Redis at ${redactedUrl(url)} (--redis): ${(e as Error).message}`;
    throw silent ? new RedisSilentError(message) : new DeepProbError(message);
  } finally {
    clearTimeout(timer);
  }
  try {
    if (db !== 0) await selectDb(client, url, db);
  } finally {
    client.disconnect();
  }
}

/** `SELECT db`, or an error naming the index and the server's `databases`. */
async function selectDb(
  client: { call(...args: (string | number)[]): Promise<unknown> },
  url: string,
  db: number,
): Promise<void> {
  try {
    await client.call('SELECT', db);
  } catch (e) {
    let count = '';
    try {
      const r = (await client.call('CONFIG', 'GET', 'databases')) as unknown[];
      const n = Number(r[1]);
      if (Number.isInteger(n)) count = `; it has ${n} (0 to ${n - 1}, its 'databases' setting)`;
    } catch {
      // CONFIG is disabled on many managed servers
    }
    throw new DeepProbError(
      `Redis at ${redactedUrl(url)} (--redis) has no database ${db}${count}: ` +
        `${(e as Error).message}; use an index the server has (the number after the port)`,
    );
  }
}
