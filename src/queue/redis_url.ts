/**
 * The Redis URL of the job queue (`--redis`, else `DEEPPROB_REDIS_URL`; none: run in-process),
 * the default queue name and the connection options of BullMQ.
 */
import { ArgumentError } from '../utils/errors.js';

/** Environment variable that gives the default of `--redis`. */
export const REDIS_ENV = 'DEEPPROB_REDIS_URL';

/** Default queue name. */
export const QUEUE_NAME = 'deepprob';

/**
 * The Redis URL to use: the option, else `DEEPPROB_REDIS_URL`, else undefined (run in-process).
 * @param option the `--redis` value.
 * @throws ArgumentError naming `--redis` when it is not a `redis://` or `rediss://` URL.
 */
export function redisUrlOf(
  option: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const raw = option ?? env[REDIS_ENV];
  if (raw === undefined || raw === '') return undefined;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ArgumentError(
      '--redis',
      `expected a URL such as redis://127.0.0.1:6379, got ${JSON.stringify(redactedUrl(raw))}`,
    );
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new ArgumentError(
      '--redis',
      `expected a redis:// or rediss:// URL, got ${JSON.stringify(redactedUrl(raw))}`,
    );
  }
  redisDbOf(raw);
  return raw;
}

/**
 * The database index of a Redis URL (`redis://host:6379/2` -> 2; none -> 0).
 * @throws ArgumentError naming `--redis` when the path is not a non-negative integer.
 */
export function redisDbOf(url: string): number {
  const path = new URL(url).pathname;
  if (path === '' || path === '/') return 0;
  const m = /^\/(\d+)$/.exec(path);
  if (m === null) {
    throw new ArgumentError(
      '--redis',
      `expected a database index (an integer) after the port, got '${path.slice(1)}' in ${redactedUrl(url)}`,
    );
  }
  return Number(m[1]);
}

/**
 * Check a queue name (workers' and submitters' `--queue`): BullMQ builds its Redis keys as
 * `bull:<queue>:<id>`, so a name is non-empty and has no `:`.
 * @param name the name.
 * @param argument the option for errors (default `--queue`).
 * @returns the name.
 * @throws ArgumentError naming the option.
 */
export function checkQueueName(name: unknown, argument = '--queue'): string {
  if (typeof name !== 'string' || name.trim() === '' || name.includes(':')) {
    throw new ArgumentError(
      argument,
      `expected a queue name without ':' (BullMQ's key separator), e.g. ${QUEUE_NAME}, got ${JSON.stringify(name)}`,
    );
  }
  return name;
}

/** Connection options: commands wait for a reconnect (a Redis restart) instead of failing. */
export function connectionOf(url: string): { url: string; maxRetriesPerRequest: null } {
  return { url, maxRetriesPerRequest: null };
}

/**
 * A Redis URL for logs and messages, its password replaced by `***`
 * (`redis://user:secret@host:6379/0` -> `redis://user:***@host:6379/0`): logs of workers and
 * submitters end up in CI and cluster logs.
 *
 * @param url a Redis URL.
 * @returns the same URL without its password (unchanged when it has none or does not parse).
 * @example
 * ```ts
 * redactedUrl('redis://:pw@127.0.0.1:6379'); // 'redis://:***@127.0.0.1:6379'
 * ```
 */
export function redactedUrl(url: string): string {
  return url.replace(/^(rediss?:\/\/[^:@/]*:)[^@/]*@/, '$1***@');
}
