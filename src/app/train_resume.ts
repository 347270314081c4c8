/**
 * Where `deepprob train` starts a run: fresh, or from the checkpoint in `out` (`--resume`,
 * `--resume-or-start`): the saved configuration (checked against its ranges and the saved network;
 * only `epochs`, `out` and `dataDir` may differ from it), the model, the epoch, step and metrics
 * done, the optimizer's state and a mid-epoch position.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadCheckpoint, recoverCheckpoint } from '../train/checkpoint.js';
import { type EpochRecord } from '../train/fit.js';
import { checkDataDir } from '../data/files.js';
import { parseKLWeight } from '../layers/kl_schedules.js';
import { ArgumentError } from '../utils/errors.js';
import type { EpochTotals } from '../layers/fit_loop.js';
import { type RunOptions, type TrainConfig } from './run_config.js';
import { checkSavedConfig } from './open_run.js';

/** The state a run starts from: a fresh run's (epoch 0, no model yet) or a resumed checkpoint's. */
export interface RunStart {
  /** The configuration the run trains with (a resumed run's saved one). */
  cfg: TrainConfig;
  /** The resumed model (undefined for a fresh run). */
  model: tf.LayersModel | undefined;
  startEpoch: number;
  step: number;
  history: EpochRecord[];
  restoreOptimizer: { name: string; tensor: tf.Tensor }[];
  midEpoch: { batch: number; totals: EpochTotals; seedState: number | undefined } | undefined;
}

/**
 * The state a run starts from: refuses a run over an existing one without `--resume`/`--force`
 * and a `--resume` without a checkpoint; on resume, loads the checkpoint (its model in
 * `held.model`, so that a refusal after loading frees it).
 * @param config the configuration as given.
 * @param start the checked configuration of the run.
 */
export async function resumeRun(
  config: TrainConfig,
  start: TrainConfig,
  options: RunOptions,
  log: (line: string) => void,
  held: { model?: tf.LayersModel },
): Promise<RunStart> {
  let cfg = start;
  let model: tf.LayersModel | undefined;
  let startEpoch = 0;
  let step = 0;
  let history: EpochRecord[] = [];
  let restoreOptimizer: { name: string; tensor: tf.Tensor }[] = [];
  let midEpoch: { batch: number; totals: EpochTotals; seedState: number | undefined } | undefined;
  const existing = recoverCheckpoint(cfg.out);
  const hasCheckpoint = existing !== undefined;
  if (
    hasCheckpoint &&
    options.resume !== true &&
    options.resumeOrStart !== true &&
    options.force !== true
  ) {
    throw new ArgumentError(
      'out',
      `${cfg.out} already holds a run (${existing}); pass --resume to continue it, or --force to start it over`,
    );
  }
  if (!hasCheckpoint && options.resume === true && options.resumeOrStart !== true) {
    throw new ArgumentError(
      'resume',
      `no checkpoint in ${cfg.out} to resume (train without --resume, or pass --resume-or-start)`,
    );
  }
  if ((options.resume === true || options.resumeOrStart === true) && hasCheckpoint) {
    const ck = await loadCheckpoint<TrainConfig, EpochRecord>(cfg.out);
    held.model = ck.model;
    if (ck.state === undefined) {
      throw new ArgumentError('resume', `${ck.dir} has no state.json; cannot resume`);
    }
    // the saved configuration against its ranges and the saved network (an edited state.json)
    checkSavedConfig(ck.state.config, ck.model, ck.dir, cfg.out);
    // the saved configuration wins, except the number of epochs (to extend a run) and paths
    const saved = ck.state.config;
    const explicit = options.explicit;
    if (explicit !== undefined) checkResumeOptions(config, saved, explicit);
    const epochs =
      explicit === undefined || explicit.includes('epochs') ? config.epochs : saved.epochs;
    // a typed --data-dir says where the run's data is now (it may have moved since)
    const moved =
      explicit !== undefined && explicit.includes('dataDir') && config.dataDir !== saved.dataDir
        ? config.dataDir
        : undefined;
    cfg = { ...saved, epochs, out: config.out, ...(moved !== undefined ? { dataDir: moved } : {}) };
    if (moved === undefined) {
      checkDataDir(cfg.dataDir, cfg.dataset, 'data-dir', `saved in ${join(ck.dir, 'state.json')}`);
    } else {
      log(`deepprob: the run's data is read from ${moved} (saved: ${saved.dataDir ?? 'bundled'})`);
    }
    model = ck.model;
    startEpoch = ck.state.epoch;
    step = ck.state.step;
    history = ck.state.metrics;
    if ((ck.state.batchInEpoch ?? 0) > 0 && ck.state.epochTotals !== undefined) {
      midEpoch = {
        batch: ck.state.batchInEpoch as number,
        totals: ck.state.epochTotals,
        seedState: ck.state.seedState,
      };
    }
    // before the optimizer's tensors are read: a refusal leaves nothing behind
    const finished = checkResumedEpochs(
      ck.dir,
      startEpoch,
      midEpoch?.batch ?? 0,
      cfg.epochs,
      explicit,
    );
    restoreOptimizer = ck.optimizerWeights();
    log(
      `deepprob: resuming ${cfg.model} from ${ck.dir} after epoch ${startEpoch}` +
        (midEpoch !== undefined
          ? ` and ${midEpoch.batch} batches of epoch ${startEpoch + 1}`
          : '') +
        ` (step ${step})`,
    );
    if (finished !== undefined) log(finished);
    const extension = lrExtensionNote(saved, cfg.epochs);
    if (extension !== undefined) log(extension);
  }
  return { cfg, model, startEpoch, step, history, restoreOptimizer, midEpoch };
}

/**
 * The epochs a resumed run trains to, against the epochs its checkpoint has done (`e` full epochs
 * and `b` batches of epoch `e + 1`): as Keras's `fit(initial_epoch=e, epochs=E)`, a finished run
 * (`b = 0`, `E = e`) has nothing to train, said by the line returned for the log; a total below
 * the epochs already done (which Keras silently skips) is refused.
 * @param dir the checkpoint folder (for the messages).
 * @param done the full epochs done, `e`.
 * @param batch the batches done of epoch `e + 1`, `b`.
 * @param epochs the run's total epochs, `E`.
 * @param explicit the options the user typed (`--epochs` is named as typed or as saved).
 * @returns the log line of a finished run, else undefined.
 * @throws ArgumentError naming `epochs` when `E < e`, or `E <= e` with `b > 0`.
 */
export function checkResumedEpochs(
  dir: string,
  done: number,
  batch: number,
  epochs: number,
  explicit: readonly string[] | undefined,
): string | undefined {
  const given = explicit === undefined || explicit.includes('epochs');
  const source = given ? `--epochs ${epochs}` : `its saved epochs (${epochs})`;
  const trained =
    batch > 0 ? `${done} epochs and ${batch} batches of epoch ${done + 1}` : `${done} epochs`;
  if (epochs < done || (batch > 0 && epochs <= done)) {
    throw new ArgumentError(
      'epochs',
      `the run in ${dir} has already trained ${trained}; ${source} ` +
        (epochs < done ? 'is fewer ' : `does not finish epoch ${done + 1} `) +
        `(--epochs is the total, also when resuming: pass --epochs ${done + 1} or more to extend the run)`,
    );
  }
  return epochs === done && batch === 0
    ? `deepprob: the run in ${dir} has finished its ${done} epochs: nothing to train ` +
        `(--epochs is the total, also when resuming: pass --epochs ${done + 1} or more to extend it)`
    : undefined;
}

/** Fields a resumed run may take from the command line (the rest come from the saved run). */
const RESUME_FREE = new Set(['epochs', 'out', 'dataDir']);

/**
 * On resume, every field the user gave (other than `epochs`, `out` and `dataDir`, which says where
 * the run's data is now) must equal the saved one:
 * the saved configuration wins, so a different value would be silently ignored.
 * @throws ArgumentError naming the option (`--lr`, ...) and both values.
 */
export function checkResumeOptions(
  given: TrainConfig,
  saved: TrainConfig,
  explicit: readonly string[],
): void {
  for (const key of explicit) {
    if (RESUME_FREE.has(key)) continue;
    if (key === 'inputSize' || key === 'inputWidth') {
      // one flag, --input-size n|HxW, sets both sides
      const side = (c: TrainConfig): string | undefined =>
        c.inputSize === undefined
          ? undefined
          : c.inputWidth === undefined || c.inputWidth === c.inputSize
            ? String(c.inputSize)
            : `${c.inputSize}x${c.inputWidth}`;
      const g = side(given);
      const v = side(saved);
      if (g === undefined || g === v) continue;
      throw new ArgumentError(
        'input-size',
        `--resume continues the saved run, whose input size is ${v ?? "the model's default"}; got ${g} (leave --input-size out to resume, or train a new run in another --out)`,
      );
    }
    const g = (given as unknown as Record<string, unknown>)[key];
    const v = (saved as unknown as Record<string, unknown>)[key];
    if (g === undefined || JSON.stringify(g) === JSON.stringify(v)) continue;
    if (key === 'klWeight' && sameKLWeight(g, v)) continue;
    const flag = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    throw new ArgumentError(
      flag,
      `--resume continues the saved run, whose ${flag} is ${JSON.stringify(v) ?? 'unset'}; got ${JSON.stringify(g)} (leave --${flag} out to resume, or train a new run in another --out)`,
    );
  }
}

/**
 * Whether two KL weights as a run configuration holds them (a number, or a number or schedule
 * name as typed) give the same schedule: `1.0` is `1`, `Blundell` is `blundell`, `standard` is
 * `uniform` and `constant` is `1` ({@link klSchedule}); unset is `1`.
 */
function sameKLWeight(a: unknown, b: unknown): boolean {
  const norm = (w: unknown): string => {
    try {
      const p = parseKLWeight(w as string | number | undefined);
      if (typeof p === 'function') return 'function';
      if (p === 'standard') return 'uniform';
      if (p === 'constant') return '1';
      return String(p);
    } catch {
      return `invalid:${JSON.stringify(w)}`;
    }
  };
  return norm(a) === norm(b);
}

/**
 * What a resumed run extended past its saved epochs does with the learning rate, as a line for the
 * log (undefined when it keeps a constant rate or is not extended): the run keeps its per-epoch
 * decay `d` (saved; from the model's recipe for the saved number of epochs `E` unless given), so
 * the epochs done keep the rates they were trained with and epoch `e` (0-based) of the extension
 * uses `lr * d^e` as before, falling below the recipe's final fraction `d^(E-1)`.
 * @param saved the saved configuration.
 * @param epochs the epochs of the resumed run.
 */
export function lrExtensionNote(saved: TrainConfig, epochs: number): string | undefined {
  const d = saved.lrDecay ?? 1;
  if (d === 1 || epochs <= saved.epochs) return undefined;
  const at = (e: number): string => `${Number(Math.pow(d, e).toPrecision(3))}x`;
  return (
    `deepprob: extending ${saved.epochs} to ${epochs} epochs: the saved lr decay ${Number(d.toPrecision(4))} ` +
    `per epoch continues (epoch ${saved.epochs} trained at ${at(saved.epochs - 1)} lr, epochs ` +
    `${saved.epochs + 1}..${epochs} at ${at(saved.epochs)}..${at(epochs - 1)} of lr ${saved.lr})`
  );
}
