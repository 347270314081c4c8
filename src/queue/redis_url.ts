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
      `expected a URL such as redis://127.0.0.1:6379, got ${JSON.stringify(raw)}`,
    );
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new ArgumentError(
      '--redis',
      `expected a redis:// or rediss:// URL, got ${JSON.stringify(raw)}`,
    );
  }
  return raw;
}

/** Connection options: commands wait for a reconnect (a Redis restart) instead of failing. */
export function connectionOf(url: string): { url: string; maxRetriesPerRequest: null } {
  return { url, maxRetriesPerRequest: null };
}
