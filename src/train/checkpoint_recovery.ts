/**
 * Recovery of a run directory after any crash (Node): the checkpoint versions a save may leave
 * (`checkpoint`, `checkpoint.old`, `checkpoint.tmp-*`, `*.del-*` debris), the newest complete one
 * made `checkpoint`, and a `checkpoint` that is not a complete version moved aside, never deleted.
 * Split from `checkpoint.ts` for size (audit 18); `checkpoint.ts` re-exports the public names.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fsOps, fsyncDir } from '../utils/file_io.js';
import { readFileInside } from '../utils/model_files.js';
import { MANIFEST_FILE, manifestProblem } from './manifest.js';
/** Name of the checkpoint directory inside a run directory. */
export const CHECKPOINT_DIR = 'checkpoint';

/** @internal Move a directory out of the way, then delete it (a half-deleted one is never a candidate). */
export function trash(dir: string): void {
  if (!existsSync(dir)) return;
  const del = `${dir}.del-${process.pid}-${Math.floor(Math.random() * 1e9)}`;
  fsOps.renameSync(dir, del);
  fsOps.rmSync(del, { recursive: true, force: true });
}

/** The trainer-state step of a checkpoint directory (-1 when it has none or it is unreadable). */
function stepOf(dir: string): number {
  try {
    const st = JSON.parse(readFileInside(dir, 'state.json').toString('utf8')) as {
      step?: unknown;
    };
    return typeof st.step === 'number' ? st.step : -1;
  } catch {
    return -1;
  }
}

/** Whether `dir` holds a complete checkpoint (a model and, when it has one, a matching manifest). */
function isComplete(dir: string, needManifest: boolean): boolean {
  if (!existsSync(join(dir, 'model.json'))) return false;
  if (!existsSync(join(dir, MANIFEST_FILE))) return !needManifest;
  return manifestProblem(dir) === undefined;
}

/** @internal The checkpoint versions found in a run directory, complete or not. */
export function candidates(runDir: string): { dir: string; rank: number; temp: boolean }[] {
  if (!existsSync(runDir)) return [];
  const out: { dir: string; rank: number; temp: boolean }[] = [];
  for (const name of readdirSync(runDir)) {
    if (name === CHECKPOINT_DIR) out.push({ dir: join(runDir, name), rank: 2, temp: false });
    else if (name === `${CHECKPOINT_DIR}.old`)
      out.push({ dir: join(runDir, name), rank: 1, temp: false });
    else if (name.startsWith(`${CHECKPOINT_DIR}.tmp-`))
      out.push({ dir: join(runDir, name), rank: 0, temp: true });
  }
  return out;
}

/** @internal The newest complete checkpoint version of a run directory (read-only), or undefined. */
export function newestComplete(runDir: string): string | undefined {
  let best: { dir: string; step: number; rank: number } | undefined;
  for (const c of candidates(runDir)) {
    // a temporary version counts only with its manifest (written last): older code wrote none
    if (!isComplete(c.dir, c.temp)) continue;
    const step = stepOf(c.dir);
    if (best === undefined || step > best.step || (step === best.step && c.rank > best.rank)) {
      best = { dir: c.dir, step, rank: c.rank };
    }
  }
  return best?.dir;
}

/**
 * Told where a `checkpoint` that is not a complete version was moved, and why it is not one.
 * @param from the `checkpoint` path.
 * @param to where it now is (`checkpoint.damaged-<ms>`).
 * @param why what is wrong with it.
 */
export type SetAsideReport = (from: string, to: string, why: string) => void;

/** The default {@link SetAsideReport}: one `deepprob: warning:` line on the console. */
const warnSetAside: SetAsideReport = (from, to, why) => {
  console.warn(
    `deepprob: warning: ${from} is not a complete checkpoint (${why}); it is kept as ${to} and not used`,
  );
};

/** Why `dir` is not a complete checkpoint version (undefined when it is one). */
function incompleteReason(dir: string): string | undefined {
  if (!statSync(dir).isDirectory()) return 'not a folder';
  if (!existsSync(join(dir, 'model.json'))) return 'no model.json';
  return manifestProblem(dir);
}

/**
 * A `checkpoint` that is not a complete version — damaged after it was written (rotation only
 * ever renames complete versions to that name) or not a folder at all — is moved aside to
 * `checkpoint.damaged-<ms>` rather than deleted, so that nothing a user trained is removed.
 */
function setAsideDamaged(final: string, report: SetAsideReport): void {
  if (!existsSync(final)) return;
  const why = incompleteReason(final);
  if (why === undefined) return;
  const to = `${final}.damaged-${Date.now()}`;
  fsOps.renameSync(final, to);
  report(final, to, why);
}

/**
 * Bring a run directory back to one clean checkpoint after any crash: the newest complete version
 * (of `checkpoint`, `checkpoint.old`, `checkpoint.tmp-*`) becomes `checkpoint`; incomplete and
 * older rotation versions (`checkpoint.old`, `checkpoint.tmp-*`) and `*.del-*` leftovers are
 * deleted. A `checkpoint` that is itself not complete (a damaged file, a stray file of that name)
 * is never deleted: it is moved to `checkpoint.damaged-<ms>` and reported.
 * @param runDir the run directory.
 * @param onSetAside told of a `checkpoint` moved aside (default: a console warning).
 * @returns the checkpoint directory, or undefined when no complete version exists.
 */
export function recoverCheckpoint(
  runDir: string,
  onSetAside: SetAsideReport = warnSetAside,
): string | undefined {
  const final = join(runDir, CHECKPOINT_DIR);
  setAsideDamaged(final, onSetAside);
  const best = newestComplete(runDir);
  if (best !== undefined && best !== final) {
    trash(final);
    fsOps.renameSync(best, final);
    fsyncDir(runDir);
  }
  for (const c of candidates(runDir)) if (c.dir !== final) trash(c.dir);
  if (existsSync(runDir)) {
    for (const name of readdirSync(runDir)) {
      if (name.startsWith(`${CHECKPOINT_DIR}.`) && name.includes('.del-')) {
        fsOps.rmSync(join(runDir, name), { recursive: true, force: true });
      }
    }
  }
  if (best === undefined) {
    trash(final);
    return undefined;
  }
  fsyncDir(runDir);
  return final;
}
