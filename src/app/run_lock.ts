/**
 * The lock of a run directory (Node): a file `.lock` holding a lease, so that two trainers never
 * write one folder and a run whose trainer died, on this host or another, can be taken over.
 *
 * The holder writes `{pid, host, startedAt, heartbeatAt, leaseMs, token}` and renews
 * `heartbeatAt` every `leaseMs / 6` (an unref'd timer; each renewal is a temporary file renamed
 * over the lock, so a reader never sees a torn write). A lock is stale, and may be taken over,
 * when
 *
 * - its lease expired: `heartbeatAt + leaseMs < now` (any host; hosts' clocks must agree to well
 *   within the lease, as NTP keeps them), or its content was seen unchanged for a whole lease by
 *   the waiting taker ({@link lockRunWaiting}: immune to clock skew), or
 * - it was written on this host by a process that is gone (detected at once).
 *
 * Taking over is atomic: the taker creates `.lock.takeover` exclusively (`wx`), re-reads the lock
 * to check that it is still the stale one it judged, renames its own lock over it and removes
 * `.lock.takeover`; of two concurrent takers exactly one wins, the other is refused.
 *
 * The host identity is `DEEPPROB_HOST_ID` when set (pods sharing a host name, tests), else
 * `os.hostname()`; the default lease is `DEEPPROB_LOCK_LEASE_MS` when set, else 30 s.
 */
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ArgumentError, DeepProbError } from '../utils/errors.js';
import { judge, parseLock, readText, replaceAtomically, type Verdict } from './lock_file.js';

/** Name of the lock file in a run directory. */
export const LOCK_FILE = '.lock';

/** Environment variable overriding the host identity written in locks. */
export const HOST_ID_ENV = 'DEEPPROB_HOST_ID';

/** Environment variable giving the default lease of a lock in ms. */
export const LOCK_LEASE_ENV = 'DEEPPROB_LOCK_LEASE_MS';

/** Default lease of a lock: a holder that has not renewed it for this long is presumed dead. */
export const DEFAULT_LEASE_MS = 30_000;

/** A `.lock.takeover` older than this was left by a taker that died mid-takeover. */
const TAKEOVER_STALE_MS = 10_000;

/** What a lock file holds (`heartbeatAt`, `leaseMs`, `token`: absent in locks of older versions). */
export interface RunLock {
  pid: number;
  host: string;
  startedAt: string;
  /** Last renewal (ISO time). */
  heartbeatAt?: string;
  /** The holder renews `heartbeatAt` well within this many ms. */
  leaseMs?: number;
  /** Random identity of this holding (tells a renewal from a takeover). */
  token?: string;
}

/** Options of {@link lockRun}. */
export interface LockOptions {
  /** Lease in ms (default `DEEPPROB_LOCK_LEASE_MS`, else 30000). */
  leaseMs?: number;
  /** Renewal interval in ms (default `leaseMs / 6`). */
  heartbeatMs?: number;
  /** Host identity (default `DEEPPROB_HOST_ID`, else `os.hostname()`). */
  host?: string;
  /**
   * Treat the lock as stale when its content is exactly this (the caller saw it unchanged for a
   * whole lease: {@link lockRunWaiting}).
   */
  staleContent?: string;
  /** Told when the lock is taken over from a stale holder, and when a holder loses its lock. */
  log?: (line: string) => void;
}

/** A held lock. */
export interface RunLockHandle {
  /** Stop renewing and remove the lock (when it is still this holder's). */
  release(): void;
  /**
   * Why this holder lost the lock (another process took it over, or it was removed), checked
   * now; undefined while it holds it.
   */
  lost(): string | undefined;
}

/** The refusal of {@link lockRun}: a live holder's lease runs. */
export class RunLockedError extends DeepProbError {
  constructor(
    message: string,
    /** The lock's path. */
    readonly path: string,
    /** Its exact content (to recognise an unchanged lock). */
    readonly content: string,
    /** When its lease expires unless renewed. */
    readonly expiresAt: Date,
    /** Its lease in ms. */
    readonly leaseMs: number,
  ) {
    super(message);
    this.name = 'RunLockedError';
  }
}

/** The host identity written in locks: `DEEPPROB_HOST_ID`, else `os.hostname()`. */
export function lockHost(env: NodeJS.ProcessEnv = process.env): string {
  const id = env[HOST_ID_ENV]?.trim();
  return id !== undefined && id !== '' ? id : hostname();
}

/**
 * The default lease: `DEEPPROB_LOCK_LEASE_MS` when set, else {@link DEFAULT_LEASE_MS}.
 * @throws ArgumentError naming the variable when it is not an integer >= 100.
 */
export function defaultLeaseMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[LOCK_LEASE_ENV];
  if (raw === undefined || raw.trim() === '') return DEFAULT_LEASE_MS;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 100) {
    throw new ArgumentError(
      LOCK_LEASE_ENV,
      `expected an integer number of ms >= 100, got '${raw}'`,
    );
  }
  return v;
}

/**
 * Take the lock of a run directory: create it, or take over a stale one (see the file comment).
 *
 * @param out the run directory (must exist).
 * @param options lease, renewal interval, host identity.
 * @returns the held lock: it renews itself until released.
 * @throws RunLockedError naming the directory, the holder (host, pid) and when its lease expires,
 *   when a live holder (or a concurrent taker) has it; ArgumentError for bad options.
 */
export function lockRun(out: string, options: LockOptions = {}): RunLockHandle {
  const leaseMs = options.leaseMs ?? defaultLeaseMs();
  if (!Number.isInteger(leaseMs) || leaseMs < 100) {
    throw new ArgumentError('leaseMs', `expected an integer number of ms >= 100, got ${leaseMs}`);
  }
  const heartbeatMs = options.heartbeatMs ?? Math.max(20, Math.floor(leaseMs / 6));
  if (!Number.isInteger(heartbeatMs) || heartbeatMs <= 0 || heartbeatMs >= leaseMs) {
    throw new ArgumentError(
      'heartbeatMs',
      `expected a positive integer below the lease (${leaseMs}), got ${heartbeatMs}`,
    );
  }
  const host = options.host ?? lockHost();
  const path = join(out, LOCK_FILE);
  const now = new Date().toISOString();
  const mine: RunLock = {
    pid: process.pid,
    host,
    startedAt: now,
    heartbeatAt: now,
    leaseMs,
    token: randomBytes(8).toString('hex'),
  };
  const me = {
    host,
    leaseMs,
    ...(options.staleContent !== undefined ? { staleContent: options.staleContent } : {}),
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      writeFileSync(path, JSON.stringify(mine), { flag: 'wx' });
      return holdLock(path, mine, heartbeatMs, options.log);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const seen = readText(path);
    if (seen === undefined) continue; // released meanwhile: create it
    const v = judge(seen.text, seen.stat, me, Date.now());
    if (!v.stale) {
      const inS = Math.max(0, Math.ceil((v.expiresAt.getTime() - Date.now()) / 1000));
      throw new RunLockedError(
        `${out} is in use by ${v.holder} (${path}); its lease expires at ${v.expiresAt.toISOString()} ` +
          `(in ${inS} s) unless the holder renews it: wait for that run to finish; if its process is ` +
          `gone, the lock can be taken over once the lease has expired`,
        path,
        seen.text,
        v.expiresAt,
        v.leaseMs,
      );
    }
    if (takeOver(path, seen.text, JSON.stringify(mine), out, v)) {
      options.log?.(`deepprob: took over ${out} from ${v.holder}: ${v.why}`);
      return holdLock(path, mine, heartbeatMs, options.log);
    }
  }
  throw new DeepProbError(`${path}: cannot take the lock (it keeps changing)`);
}

/**
 * Replace the stale lock `path` (content `staleText`) by `content`, under the exclusive
 * `.lock.takeover` file. Returns false when the lock changed meanwhile (judge it again).
 * @throws RunLockedError when another process is taking it over right now.
 */
function takeOver(
  path: string,
  staleText: string,
  content: string,
  out: string,
  v: Verdict,
): boolean {
  const guard = `${path}.takeover`;
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(guard, `${process.pid}@${lockHost()}`, { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const g = readText(guard);
      if (g !== undefined && Date.now() - g.stat.mtimeMs > TAKEOVER_STALE_MS && attempt === 0) {
        rmSync(guard, { force: true }); // left by a taker that died mid-takeover
        continue;
      }
      throw new RunLockedError(
        `${out} is being taken over by another process (${g?.text || 'starting'}, ${guard}): ` +
          `the lock of ${v.holder} is stale (${v.why})`,
        path,
        staleText,
        v.expiresAt,
        v.leaseMs,
      );
    }
  }
  try {
    const now = readText(path);
    if (now === undefined || now.text !== staleText) return false;
    replaceAtomically(path, content);
    return true;
  } finally {
    rmSync(guard, { force: true });
  }
}

/** Renew `mine` in `path` every `heartbeatMs` until released or lost. */
function holdLock(
  path: string,
  mine: RunLock,
  heartbeatMs: number,
  log: ((line: string) => void) | undefined,
): RunLockHandle {
  let lostWhy: string | undefined;
  let released = false;
  const ours = (): boolean => {
    const seen = readText(path);
    const held = seen === undefined ? undefined : parseLock(seen.text);
    if (held?.token === mine.token) return true;
    lostWhy =
      held === undefined
        ? `${path} was removed`
        : `process ${String(held.pid)} on ${String(held.host)} took it over`;
    log?.(`deepprob: lost the lock of ${path}: ${lostWhy}`);
    return false;
  };
  const timer = setInterval(() => {
    try {
      if (!ours()) {
        clearInterval(timer);
        return;
      }
      mine.heartbeatAt = new Date().toISOString();
      replaceAtomically(path, JSON.stringify(mine));
    } catch {
      // the directory is unreachable for a moment: try again at the next beat
    }
  }, heartbeatMs);
  timer.unref();
  return {
    release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      try {
        if (lostWhy === undefined && ours()) rmSync(path, { force: true });
      } catch {
        // the directory is gone
      }
    },
    lost() {
      if (lostWhy === undefined && !released) {
        try {
          ours();
        } catch {
          // unreadable for a moment: judged at the next beat
        }
      }
      return lostWhy;
    },
  };
}

/** Options of {@link lockRunWaiting}. */
export interface WaitingLockOptions extends LockOptions {
  /** Longest wait in ms (default: the holder's lease plus 2 s). */
  waitMs?: number;
  /** Poll interval in ms (default 250). */
  pollMs?: number;
}

/**
 * {@link lockRun}, waiting while the holder does not renew its lease: a lock whose content stays
 * unchanged for a whole lease (measured here, so clocks need not agree) or whose lease expires is
 * taken over; a holder that renews it is alive, and the refusal is thrown at once. Queue jobs use
 * it: a worker that died on another host leaves a lock that a retry can take over.
 *
 * @throws RunLockedError as {@link lockRun} when the holder is alive or the wait ran out.
 */
export async function lockRunWaiting(
  out: string,
  options: WaitingLockOptions = {},
): Promise<RunLockHandle> {
  const t0 = Date.now();
  let first: RunLockedError | undefined;
  for (;;) {
    try {
      return lockRun(out, {
        ...options,
        ...(first !== undefined && Date.now() - t0 >= first.leaseMs
          ? { staleContent: first.content }
          : {}),
      });
    } catch (e) {
      if (!(e instanceof RunLockedError)) throw e;
      first ??= e;
      const renewed = e.content !== first.content;
      const limit = options.waitMs ?? first.leaseMs + 2000;
      if (renewed || Date.now() - t0 > limit) throw e;
      await new Promise((r) => setTimeout(r, options.pollMs ?? 250));
    }
  }
}
