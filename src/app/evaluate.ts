/**
 * The evaluation runner behind `deepprob eval`: a checkpoint on a test set (accuracy with one
 * sample, mean weights and MC, NLL, entropy, mutual information).
 */
import { join } from 'node:path';
import { Batcher } from '../data/batcher.js';
import { checkDataDir } from '../data/files.js';
import { setMode } from '../layers/model_utils.js';
import { evaluate, type EvalResult } from '../train/evaluate.js';
import { RunInterrupted, gracefulStop, type StopMessages } from './graceful_stop.js';
import { ArgumentError } from '../utils/errors.js';
import { checkOptionKeys } from '../utils/options.js';
import { checkRange } from './option_ranges.js';
import { setSeed } from '../utils/seed.js';
import { checkSetsAgainstModel } from './data_checks.js';
import { openRun } from './open_run.js';
import { RUN_OPTION_KEYS, type RunOptions, type TrainConfig } from './run_config.js';
import { datasetNormalization, loadSplit, transformOf, type SizeFlags } from './run_data.js';
import { disposeModel } from '../layers/dispose_model.js';

/** The size options of `eval` and `uncertainty`: the checkpoint fixes the side; `--resize`. */
export const EVAL_SIZE_FLAGS: SizeFlags = { resize: 'resize' };

const EVAL_CONFIG_FIELDS: Record<keyof EvalConfig, true> = {
  checkpoint: true,
  dataset: true,
  dataDir: true,
  mcSamples: true,
  limit: true,
  batchSize: true,
  resize: true,
  perExample: true,
  seed: true,
};

/** The fields of an {@link EvalConfig} (a typo is refused naming it). */
export const EVAL_CONFIG_KEYS: readonly string[] = Object.keys(EVAL_CONFIG_FIELDS);

/**
 * Check the counts of an evaluation given through the API against the CLI's ranges
 * (`mcSamples` in `[1, 10000]`, `limit` in `[1, 1e9]`, `batchSize` in `[1, 65536]`, integers).
 * @throws ArgumentError naming the field.
 */
export function checkEvalSizes(c: {
  mcSamples?: number | undefined;
  limit?: number | undefined;
  batchSize?: number | undefined;
}): void {
  if (c.mcSamples !== undefined) checkRange('mc-samples', c.mcSamples, 'mcSamples');
  if (c.limit !== undefined) checkRange('limit', c.limit, 'limit');
  if (c.batchSize !== undefined) checkRange('batch-size', c.batchSize, 'batchSize');
}

/** What a stop signal prints during `eval` (it writes no file). */
const EVAL_STOP: StopMessages = {
  first: 'finishing the current batch, then stopping (no result is printed)',
  second: 'nothing was written',
};

/** Options of {@link runEvaluation}. */
export interface EvalConfig {
  /** Run or checkpoint directory. */
  checkpoint: string;
  /** Dataset (default: the one trained on). */
  dataset?: string;
  /** Dataset directory. */
  dataDir?: string;
  /** MC samples (default: the training configuration's, else 10). */
  mcSamples?: number;
  /** Evaluate the first N test images only. */
  limit?: number;
  /** Batch size (default 500). */
  batchSize?: number;
  /**
   * Reach the checkpoint's input size by `pad` or `bilinear` resizing (default: as its run was
   * trained), e.g. `bilinear` for images larger than the model's input.
   */
  resize?: 'pad' | 'bilinear';
  /** Also return per-image uncertainties. */
  perExample?: boolean;
  /**
   * Seed of the MC weight draws (an integer in `[0, 2^32 - 1]`; default: the run's training seed),
   * so that evaluating the same checkpoint twice gives the same figures.
   */
  seed?: number;
}

/** Result of {@link runEvaluation}. */
export interface EvalRunResult extends EvalResult {
  /** Model name. */
  model: string;
  /** Dataset evaluated. */
  dataset: string;
  /** Checkpoint directory used. */
  checkpoint: string;
  /** Wall time (seconds). */
  seconds: number;
}

/**
 * Evaluate a checkpoint on a test set (accuracy with one sample, mean weights and MC, NLL,
 * entropy, mutual information). The MC weight draws are seeded (`config.seed`, default the run's
 * training seed; this resets deepprob's global weight-sampling stream), so the figures repeat.
 *
 * @param config checkpoint directory and overrides.
 * @param options `log`, `quiet`; `handleSignals` (the CLI's): the first SIGINT/SIGTERM/SIGHUP
 *   ends the pass after the current batch and throws `RunInterrupted` (exit code 130/143/129)
 *   without a result; a second one exits at once.
 * @example
 * ```ts
 * const r = await runEvaluation({ checkpoint: 'runs/bnn', mcSamples: 20 });
 * ```
 */
export async function runEvaluation(
  config: EvalConfig,
  options: RunOptions = {},
): Promise<EvalRunResult> {
  const t0 = performance.now();
  if (config === null || typeof config !== 'object') {
    throw new ArgumentError('config', `expected an EvalConfig object, got ${String(config)}`);
  }
  checkOptionKeys(config, EVAL_CONFIG_KEYS, 'runEvaluation (EvalConfig)');
  checkOptionKeys(options ?? {}, RUN_OPTION_KEYS, 'runEvaluation (RunOptions)');
  if (typeof config.checkpoint !== 'string' || config.checkpoint.trim() === '') {
    // '' would be read as the working directory
    throw new ArgumentError(
      'checkpoint',
      `expected a run or checkpoint folder, got ${JSON.stringify(config.checkpoint) ?? 'undefined'}`,
    );
  }
  checkEvalSizes(config);
  if (
    config.seed !== undefined &&
    !(Number.isInteger(config.seed) && config.seed >= 0 && config.seed <= 0xffffffff)
  ) {
    throw new ArgumentError(
      'seed',
      `expected an integer in [0, 4294967295], got ${String(config.seed)}`,
    );
  }
  const run = await openRun(config.checkpoint);
  const { model, saved, kind, modelName } = run;
  const ck = run.checkpoint;
  try {
    const cfg: TrainConfig = {
      ...run.config,
      ...(config.dataset !== undefined ? { dataset: config.dataset } : {}),
      // the run's --data-dir holds its own dataset: another dataset comes from its own source
      ...(config.dataset !== undefined && config.dataset !== run.config.dataset
        ? { dataDir: undefined }
        : {}),
      ...(config.dataDir !== undefined ? { dataDir: config.dataDir } : {}),
      ...(config.resize !== undefined ? { resize: config.resize } : {}),
    };
    checkDataDir(
      cfg.dataDir,
      cfg.dataset,
      'data-dir',
      config.dataDir === undefined
        ? `the run's, saved in ${join(ck.dir, 'state.json')}`
        : undefined,
    );
    if (config.dataset !== undefined && config.dataset !== saved?.dataset) {
      // a different dataset is normalised like the training data, so OOD inputs look the same way
      cfg.normalize = saved?.normalize ?? datasetNormalization(saved?.dataset ?? 'mnist');
    }
    const testSet = loadSplit(cfg, 'test', config.limit);
    const batches = new Batcher(testSet, {
      batchSize: config.batchSize ?? 500,
      shuffle: false,
      transform: transformOf(cfg, testSet, EVAL_SIZE_FLAGS, modelName),
    });
    checkSetsAgainstModel(model, batches.inputShape, [testSet], {
      shape: 'checkpoint',
      labels: 'dataset',
      model: 'checkpoint',
    });
    setSeed(config.seed ?? run.config.seed ?? 1);
    // the stop messages show also with --quiet
    const stop = gracefulStop(
      options.handleSignals === true,
      options.log ?? ((l: string) => console.error(l)),
      EVAL_STOP,
    );
    if (options.quiet !== true) {
      // after the handlers: from this line on, a signal stops at a batch boundary
      (options.log ?? console.error)(
        `deepprob: evaluating ${modelName} on ${testSet.name} (${testSet.count} images)`,
      );
    }
    let r: EvalResult;
    try {
      r = await evaluate(model, batches, {
        kind,
        mcSamples: config.mcSamples ?? saved?.mcSamples ?? 10,
        ...(cfg.evidence !== undefined ? { evidence: cfg.evidence } : {}),
        setMode: (m, mode) => {
          setMode(m, mode);
        },
        perExample: config.perExample ?? false,
        ...(stop.shouldStop !== undefined ? { shouldStop: stop.shouldStop } : {}),
      });
    } finally {
      await stop.end();
    }
    if (stop.signal !== undefined && r.stopped === true) {
      throw new RunInterrupted(
        stop.signal,
        `deepprob: stopped by ${stop.signal} after ${r.count} of ${testSet.count} test images of ` +
          `${ck.dir}; no result printed (figures of part of the test set would read as the whole's)`,
      );
    }
    if (options.quiet !== true) (options.log ?? console.error)(`deepprob: evaluated ${ck.dir}`);
    return {
      ...r,
      model: modelName,
      dataset: testSet.name,
      checkpoint: ck.dir,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    disposeModel(model);
  }
}
