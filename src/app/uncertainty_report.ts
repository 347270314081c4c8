/**
 * The uncertainty-report runner behind `deepprob uncertainty` (Node): load a training checkpoint, predict the
 * in-distribution test set and an out-of-distribution test set, compute the metrics and
 * uncertainty scores, and write `report.json` and a self-contained `report.html` atomically.
 */
import { join } from 'node:path';
import { Batcher } from '../data/batcher.js';
import type { ImageTransform } from '../data/transform.js';
import { limitImageSet, type ImageSet } from '../data/dataset.js';
import { checkDataDir, datasetSource, loadDataset, parseDatasetSpec } from '../data/files.js';
import { setMode } from '../layers/model_utils.js';
import { hasDropout } from '../toolbox/predictors.js';
import { buildReport, type ScoreInput } from '../toolbox/report/build.js';
import { renderReportHtml } from '../toolbox/report/html.js';
import { imageDataUri } from '../toolbox/report/png.js';
import type { UncertaintyReport } from '../toolbox/report/types.js';
import { ArgumentError } from '../utils/errors.js';
import { setSeed } from '../utils/seed.js';
import { atomicWriteFile } from '../utils/file_io.js';
import { checkSetsAgainstModel } from './data_checks.js';
import { checkEvalSizes, EVAL_SIZE_FLAGS } from './evaluate.js';
import { checkRange } from './option_ranges.js';
import { checkOptionKeys } from '../utils/options.js';
import { RunInterrupted, gracefulStop } from './graceful_stop.js';
import { openRun } from './open_run.js';
import { transformOf } from './run_data.js';
import { disposeModel } from '../layers/dispose_model.js';
import { checkWritableDir } from './run_dir.js';
import { batchFunction, predictSet, type Predictions } from './uncertainty_predict.js';
import { hostEvidenceFunction, SCORES, scoreKeys, type ScoreDef } from './uncertainty_scores.js';

/** Options of {@link runUncertaintyReport}. */
export interface UncertaintyRunOptions {
  /** Run or checkpoint directory written by `deepprob train`. */
  checkpoint: string;
  /** Out-of-distribution dataset: a name or `name:DIR`, e.g. `kmnist:/data/kmnist` (default `fashion-mnist`). */
  ood?: string;
  /** Output directory (default `<checkpoint>/uncertainty`). */
  out?: string;
  /** Monte Carlo samples for Bayesian / MC-dropout models (default 20). */
  mcSamples?: number;
  /** Use only the first N images of each test set. */
  limit?: number;
  /** Evaluation batch size (default 500). */
  batchSize?: number;
  /** Evidence function of evidential models (default `softplus`). */
  evidence?: string;
  /** Calibration bins (default 15). */
  numBins?: number;
  /** Directory of the dataset files. */
  dataDir?: string;
  /** Reach the checkpoint's input size by `pad` or `bilinear` (default: as its run was trained). */
  resize?: 'pad' | 'bilinear';
  /** Seed of the Monte Carlo draws (default the run's training seed, so reports repeat). */
  seed?: number;
  /** Progress lines (default stderr). */
  log?: (line: string) => void;
  /**
   * Stop gracefully on SIGINT/SIGTERM/SIGHUP (the CLI sets it): finish the current batch, write
   * no report (the files of an earlier report stay as they were) and throw `RunInterrupted`; a
   * second signal exits at once. Default false.
   */
  handleSignals?: boolean;
}

/** What {@link runUncertaintyReport} returns. */
export interface UncertaintyRunResult {
  report: UncertaintyReport;
  htmlPath: string;
  jsonPath: string;
}

const UNCERTAINTY_OPTION_FIELDS: Record<keyof UncertaintyRunOptions, true> = {
  checkpoint: true,
  ood: true,
  out: true,
  mcSamples: true,
  limit: true,
  batchSize: true,
  evidence: true,
  numBins: true,
  dataDir: true,
  resize: true,
  seed: true,
  log: true,
  handleSignals: true,
};

/** The fields of {@link UncertaintyRunOptions} (a typo is refused naming it). */
export const UNCERTAINTY_OPTION_KEYS: readonly string[] = Object.keys(UNCERTAINTY_OPTION_FIELDS);

/**
 * Compute and write the uncertainty report of a checkpoint.
 *
 * @param options checkpoint, OOD dataset, output directory, MC samples.
 * @example
 * ```ts
 * const { htmlPath } = await runUncertaintyReport({ checkpoint: 'runs/bnn', ood: 'fashion-mnist' });
 * ```
 */
export async function runUncertaintyReport(
  options: UncertaintyRunOptions,
): Promise<UncertaintyRunResult> {
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError('options', `expected an object, got ${String(options)}`);
  }
  checkOptionKeys(options, UNCERTAINTY_OPTION_KEYS, 'runUncertaintyReport');
  checkEvalSizes({ limit: options.limit, batchSize: options.batchSize });
  if (options.numBins !== undefined) checkRange('bins', options.numBins, 'numBins');
  const log = options.log ?? ((s: string) => console.error(s));
  const mcSamples = options.mcSamples ?? 20;
  if (!Number.isInteger(mcSamples) || mcSamples < 2) {
    throw new ArgumentError('mcSamples', `expected an integer >= 2, got ${mcSamples}`);
  }
  const oodSpec = parseDatasetSpec(options.ood ?? 'fashion-mnist', 'ood');
  // the report is written at the end: refuse an unwritable folder before any work
  if (options.out !== undefined) checkWritableDir(options.out, 'out');
  const run = await openRun(options.checkpoint);
  if (options.out === undefined) {
    try {
      checkWritableDir(join(options.checkpoint, 'uncertainty'), 'out');
    } catch (e) {
      disposeModel(run.model);
      throw e;
    }
  }
  const { model, kind, config: cfg } = run;
  const ck = run.checkpoint;
  try {
    const mode: 'evidential' | 'sampling' | 'single' =
      kind === 'evidential'
        ? 'evidential'
        : kind === 'bayesian' || hasDropout(model)
          ? 'sampling'
          : 'single';
    const ood = oodSpec.name;
    const dir = options.dataDir ?? cfg.dataDir;
    checkDataDir(
      dir,
      cfg.dataset,
      'data-dir',
      options.dataDir === undefined
        ? `the run's, saved in ${join(ck.dir, 'state.json')}`
        : undefined,
    );
    // the same dataset read from the same folder (resolved: the run's --data-dir, or the default
    // source; `--ood mnist` on a run trained on its own MNIST folder reads the bundled copy)
    const sameName = (n: string): string => (n === 'fashion' ? 'fashion-mnist' : n);
    if (
      sameName(ood) === sameName(cfg.dataset) &&
      datasetSource(ood, oodSpec.dir) === datasetSource(cfg.dataset, dir)
    ) {
      throw new ArgumentError(
        'ood',
        `is the checkpoint's own dataset (${cfg.dataset}, read from ${datasetSource(cfg.dataset, dir)}): the in- and out-of-distribution images would be the same test images; choose another dataset (e.g. ${cfg.dataset === 'fashion-mnist' ? 'mnist' : 'fashion-mnist'}) or another folder (${ood}:DIR)`,
      );
    }
    setSeed(options.seed ?? cfg.seed ?? 1);
    const load = (name: string, from: string | undefined): ImageSet => {
      const set = loadDataset(name, {
        split: 'test',
        ...(from !== undefined ? { dir: from } : {}),
      });
      return options.limit !== undefined ? limitImageSet(set, options.limit) : set;
    };
    const inSet = load(cfg.dataset, dir);
    const outSet = load(ood, oodSpec.dir);
    // the OOD images may have another size: each set is padded (or resized) to the model's input
    if (outSet.channels !== inSet.channels) {
      throw new ArgumentError(
        'ood',
        `images of ${ood} (${outSet.height}x${outSet.width}x${outSet.channels}) have ` +
          `${outSet.channels} channel(s), ${cfg.dataset}'s ${inSet.channels}`,
      );
    }
    // both sets go through the training transform (normalised like the training data)
    const runCfg = options.resize !== undefined ? { ...cfg, resize: options.resize } : cfg;
    const transforms = new Map(
      [inSet, outSet].map(
        (set) => [set, transformOf(runCfg, set, EVAL_SIZE_FLAGS, run.modelName)] as const,
      ),
    );
    const batcher = (set: ImageSet): Batcher =>
      new Batcher(set, {
        batchSize: options.batchSize ?? 500,
        shuffle: false,
        transform: transforms.get(set) as ImageTransform,
      });
    checkSetsAgainstModel(model, batcher(inSet).inputShape, [inSet], {
      shape: 'checkpoint',
      labels: 'dataset',
      model: 'checkpoint',
    });
    if (kind === 'bayesian') setMode(model, 'sample');
    const fn = batchFunction(
      model,
      mode,
      mcSamples,
      options.evidence ?? 'softplus',
      kind !== 'bayesian',
    );
    const keys = scoreKeys(mode);
    const hostEv = hostEvidenceFunction(options.evidence ?? 'softplus');
    const out = options.out ?? join(options.checkpoint, 'uncertainty');
    // the stop messages show whatever `log` is
    const stop = gracefulStop(options.handleSignals === true, (l) => console.error(l), {
      first: 'finishing the current batch, then stopping without writing the report',
      second: `no report was written (${out} keeps what it held)`,
    });
    // after the handlers: from this line on, a signal stops at a batch boundary
    log(
      `deepprob: ${run.modelName} (${kind}, ${mode === 'sampling' ? `${mcSamples} MC samples` : 'one pass'}) on ${inSet.name} vs ${outSet.name}`,
    );
    let pin: Predictions | { stoppedAfter: number };
    let pout: Predictions | { stoppedAfter: number } | undefined;
    try {
      const shouldStop = stop.shouldStop;
      pin = await predictSet(fn, hostEv, inSet, batcher(inSet), keys, log, shouldStop);
      if (!('stoppedAfter' in pin)) {
        pout = await predictSet(fn, hostEv, outSet, batcher(outSet), keys, log, shouldStop);
      }
    } finally {
      await stop.end();
    }
    if ('stoppedAfter' in pin || pout === undefined || 'stoppedAfter' in pout) {
      const [set, n] =
        'stoppedAfter' in pin
          ? [inSet, pin.stoppedAfter]
          : [outSet, (pout as { stoppedAfter: number }).stoppedAfter];
      const signal = stop.signal ?? 'SIGINT';
      throw new RunInterrupted(
        signal,
        `deepprob: stopped by ${signal} after ${n} of ${set.count} images of ${set.name}` +
          (set === outSet ? ` (all ${inSet.count} of ${inSet.name} done)` : '') +
          `; no report written (${join(out, 'report.json')} and report.html are as they were)`,
      );
    }
    const scores: ScoreInput[] = keys.map((key) => ({
      ...(SCORES[key] as ScoreDef),
      inScores: pin.scores.get(key) as Float32Array,
      outScores: pout.scores.get(key) as Float32Array,
    }));
    const report = buildReport({
      model: { name: run.modelName, kind, checkpoint: ck.dir },
      inName: inSet.name,
      outName: outSet.name,
      probs: pin.probs,
      numClasses: pin.numClasses,
      labels: inSet.labels,
      scores,
      ...(mode === 'sampling' ? { mcSamples } : {}),
      numBins: options.numBins ?? 15,
      image: (i) => imageDataUri(inSet, i),
      ...(inSet.classNames !== undefined ? { classNames: inSet.classNames } : {}),
    });
    const html = await renderReportHtml(report);
    const jsonPath = join(out, 'report.json');
    const htmlPath = join(out, 'report.html');
    atomicWriteFile(jsonPath, JSON.stringify(report, null, 1));
    atomicWriteFile(htmlPath, html);
    return { report, htmlPath, jsonPath };
  } finally {
    disposeModel(model);
  }
}
