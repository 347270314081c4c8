/**
 * Reading and judging the lock file of a run directory (Node): its content read and parsed, written
 * atomically (a temporary file renamed over it), and the verdict on an existing lock (stale or
 * held, its holder, why, when its lease expires).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { DeepProbError } from '../utils/errors.js';
import type { RunLock } from './run_lock.js';

/** Whether process `pid` of this host is alive (`EPERM`: alive, another user's). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The text of a file and its stat, undefined when it does not exist.
 * @throws DeepProbError naming the file when it is not a regular file (a folder gave Node's
 *   `EISDIR`, a FIFO or a device blocked the trainer forever), before anything is read.
 */
export function readText(path: string): { text: string; stat: Stats } | undefined {
  try {
    const stat = statSync(path);
    if (!stat.isFile()) {
      throw new DeepProbError(
        `${path}: not a regular file (a folder, a FIFO or a device) where the run's lock file belongs; remove it and run again`,
      );
    }
    return { text: readFileSync(path, 'utf8'), stat };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** A lock file's content, undefined when it is not a JSON object (being written, torn). */
export function parseLock(text: string): Partial<RunLock> | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return v !== null && typeof v === 'object' ? (v as Partial<RunLock>) : undefined;
  } catch {
    return undefined;
  }
}

/** Write `content` to `path` atomically (a temporary file renamed over it). */
export function replaceAtomically(path: string, content: string): void {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, content);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** The verdict on an existing lock. */
export interface Verdict {
  stale: boolean;
  /** The holder (`process 12 on node-b since ...`). */
  holder: string;
  /** Why it is stale. */
  why: string;
  expiresAt: Date;
  leaseMs: number;
}

/**
 * Judge an existing lock: stale when its holder on this host is gone, when its content was seen
 * unchanged for a whole lease (`me.staleContent`), or when its lease expired
 * (`heartbeatAt + leaseMs < now`; an unreadable lock counts from its mtime).
 */
export function judge(
  text: string,
  stat: Stats,
  me: { host: string; leaseMs: number; staleContent?: string },
  now: number,
): Verdict {
  const held = parseLock(text);
  const lease = typeof held?.leaseMs === 'number' && held.leaseMs > 0 ? held.leaseMs : me.leaseMs;
  const beat = Date.parse(held?.heartbeatAt ?? held?.startedAt ?? '');
  // an unreadable lock (being written, or torn by an older version) counts from its mtime
  const last = Number.isFinite(beat) ? beat : stat.mtimeMs;
  const expiresAt = new Date(last + lease);
  const holder =
    held === undefined
      ? 'a process that is writing the lock'
      : `process ${String(held.pid)} on ${String(held.host)} since ${String(held.startedAt)}`;
  const verdict = (stale: boolean, why: string): Verdict => ({
    stale,
    holder,
    why,
    expiresAt,
    leaseMs: lease,
  });
  if (held?.host === me.host && typeof held.pid === 'number') {
    if (!alive(held.pid)) {
      return verdict(true, `process ${held.pid} on this host (${me.host}) is gone`);
    }
    // a live process's lock of an older version (no lease) is judged by its process alone
    if (held.heartbeatAt === undefined) return verdict(false, 'its lease runs');
  }
  if (me.staleContent !== undefined && text === me.staleContent) {
    return verdict(true, `its holder did not renew it for ${lease} ms`);
  }
  if (expiresAt.getTime() < now) {
    return verdict(
      true,
      `its lease expired at ${expiresAt.toISOString()} (last renewed ${new Date(last).toISOString()})`,
    );
  }
  return verdict(false, 'its lease runs');
}
