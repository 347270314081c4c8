/**
 * The uncertainty-report runner behind `deepprob uncertainty` (Node): load a training checkpoint, predict the
 * in-distribution test set and an out-of-distribution test set, compute the metrics and
 * uncertainty scores, and write `report.json` and a self-contained `report.html` atomically.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Batcher } from '../data/batcher.js';
import type { ImageTransform } from '../data/transform.js';
import { limitImageSet, type ImageSet } from '../data/dataset.js';
import { checkDataDir, datasetSource, loadDataset, parseDatasetSpec } from '../data/files.js';
import { setMode } from '../layers/model_utils.js';
import {
  decompose,
  entropyLastAxis,
  kwonUncertainty,
  normalizedUncertainty,
} from '../toolbox/decomposition.js';
import { dirichletOutputs } from '../toolbox/evidential/dirichlet.js';
import { evidenceFunction } from '../toolbox/evidential/evidence.js';
import { modelLogits } from '../toolbox/class_outputs.js';
import { applyWithMcDropout, hasDropout } from '../toolbox/predictors.js';
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

/** Host-side predictions of one dataset. */
interface Predictions {
  /** Class probabilities, `count x numClasses`. */
  probs: Float64Array;
  /** The model's number of classes (its outputs', not the set's: an OOD set has its own). */
  numClasses: number;
  scores: Map<string, Float32Array>;
}

interface ScoreDef {
  key: string;
  name: string;
  description: string;
}

const SCORES: Record<string, ScoreDef> = {
  evidential_u: {
    key: 'evidential_u',
    name: 'uncertainty mass u = K/S',
    description: 'Dirichlet uncertainty mass of the evidential network (Sensoy et al. 2018)',
  },
  mutual_information: {
    key: 'mutual_information',
    name: 'mutual information (epistemic)',
    description: 'H[mean p] - mean H[p_s]: disagreement between Monte Carlo samples (BALD)',
  },
  predictive_entropy: {
    key: 'predictive_entropy',
    name: 'predictive entropy (total)',
    description: 'entropy of the (mean) predictive distribution',
  },
  expected_entropy: {
    key: 'expected_entropy',
    name: 'expected entropy (aleatoric)',
    description: 'mean entropy of the sampled predictive distributions',
  },
  one_minus_max_prob: {
    key: 'one_minus_max_prob',
    name: '1 - max probability',
    description: 'one minus the confidence of the predicted class',
  },
  softmax_epistemic: {
    key: 'softmax_epistemic',
    name: 'epistemic, softmax (Kwon)',
    description:
      'trace of mean_s (p_s - pbar)(p_s - pbar)^T with softmax outputs (BayesianCNN "softmax")',
  },
  softmax_aleatoric: {
    key: 'softmax_aleatoric',
    name: 'aleatoric, softmax (Kwon)',
    description:
      'trace of mean_s diag(p_s) - p_s p_s^T with softmax outputs (BayesianCNN "softmax")',
  },
  normalized_epistemic: {
    key: 'normalized_epistemic',
    name: 'epistemic, softplus-normalized',
    description:
      'Kwon epistemic term on softplus-normalised outputs (BayesianCNN "normalized", Shridhar et al. 2018)',
  },
  normalized_aleatoric: {
    key: 'normalized_aleatoric',
    name: 'aleatoric, softplus-normalized',
    description: 'Kwon aleatoric term on softplus-normalised outputs (BayesianCNN "normalized")',
  },
};

/** Which scores each kind of model yields, primary first. */
function scoreKeys(mode: 'evidential' | 'sampling' | 'single'): string[] {
  if (mode === 'evidential') return ['evidential_u', 'predictive_entropy', 'one_minus_max_prob'];
  if (mode === 'single') return ['predictive_entropy', 'one_minus_max_prob'];
  return [
    'mutual_information',
    'predictive_entropy',
    'expected_entropy',
    'one_minus_max_prob',
    'softmax_epistemic',
    'softmax_aleatoric',
    'normalized_epistemic',
    'normalized_aleatoric',
  ];
}

/** The evidence functions of `evidential/evidence.ts` in float64 on the host. */
function hostEvidenceFunction(name: string): (o: number) => number {
  evidenceFunction(name); // validates the name
  if (name === 'relu') return (o) => Math.max(0, o);
  if (name === 'exp') return (o) => Math.exp(Math.min(10, Math.max(-10, o)));
  return (o) => (o > 0 ? o + Math.log1p(Math.exp(-o)) : Math.log1p(Math.exp(o)));
}

/** Per-batch computation: returns `[B, K]` probabilities and `[B]` scores keyed by name. */
type BatchFn = (x: tf.Tensor) => {
  probs: tf.Tensor;
  scores: Record<string, tf.Tensor>;
  /** `probs` holds logits: the host computes `alpha / S`, `alpha = f(o) + 1`, in float64. */
  evidence?: boolean;
};

function batchFunction(
  model: tf.LayersModel,
  mode: 'evidential' | 'sampling' | 'single',
  mcSamples: number,
  evidence: string,
  mcDropout: boolean,
): BatchFn {
  // MC dropout: only the dropout layers as in training (BatchNorm at inference, not updated)
  const logitsOf = mcDropout
    ? modelLogits(model, (x) => applyWithMcDropout(model, x) as tf.Tensor)
    : modelLogits(model);
  if (mode === 'evidential') {
    const toEvidence = evidenceFunction(evidence);
    return (x) => {
      const logits = model.apply(x, { training: false }) as tf.Tensor;
      const d = dirichletOutputs(toEvidence(logits));
      const p = d.probs;
      return {
        // alpha / S is formed on the host in float64 from the logits: in float32, softplus of
        // outputs below about -17 rounds to 0 evidence, and the predicted class becomes a tie
        probs: logits,
        evidence: true,
        scores: {
          evidential_u: d.uncertainty,
          predictive_entropy: entropyLastAxis(p),
          one_minus_max_prob: tf.sub(1, tf.max(p, -1)),
        },
      };
    };
  }
  if (mode === 'single') {
    return (x) => {
      const p = tf.softmax(logitsOf(x, false));
      return {
        probs: p,
        scores: {
          predictive_entropy: entropyLastAxis(p),
          one_minus_max_prob: tf.sub(1, tf.max(p, -1)),
        },
      };
    };
  }
  return (x) => {
    const logits: tf.Tensor[] = [];
    for (let s = 0; s < mcSamples; s++) logits.push(logitsOf(x, false));
    const l = tf.stack(logits);
    const probs = tf.softmax(l, -1);
    const d = decompose(probs);
    const k = kwonUncertainty(probs);
    const nz = normalizedUncertainty(l);
    return {
      probs: d.meanProbs,
      scores: {
        mutual_information: d.mutualInformation,
        predictive_entropy: d.predictiveEntropy,
        expected_entropy: d.expectedEntropy,
        one_minus_max_prob: d.oneMinusMaxProb,
        softmax_epistemic: k.epistemicTotal,
        softmax_aleatoric: k.aleatoricTotal,
        normalized_epistemic: nz.epistemicTotal,
        normalized_aleatoric: nz.aleatoricTotal,
      },
    };
  };
}

async function predictSet(
  fn: BatchFn,
  hostEvidence: (o: number) => number,
  set: ImageSet,
  batcher: Batcher,
  keys: string[],
  log: (s: string) => void,
  shouldStop?: () => boolean,
): Promise<Predictions | { stoppedAfter: number }> {
  // the model's classes, read from its first batch: an OOD set's own count (Fashion-MNIST's 10
  // against a 26-class model) would misplace every row (was: 'offset is out of bounds')
  let k = 0;
  let probs = new Float64Array(0);
  const scores = new Map(keys.map((key) => [key, new Float32Array(set.count)]));
  let done = 0;
  let lastLog = Date.now();
  for (const b of batcher.batches(0)) {
    try {
      let evidence = false;
      const out = tf.tidy(() => {
        const r = fn(b.x);
        evidence = r.evidence === true;
        return [r.probs, ...keys.map((key) => r.scores[key] as tf.Tensor)];
      });
      const vals = await Promise.all(out.map((t) => t.data()));
      tf.dispose(out);
      const pv = vals[0] as Float32Array;
      if (k === 0) {
        k = pv.length / b.size;
        probs = new Float64Array(set.count * k);
      }
      if (evidence) {
        const alpha = new Float64Array(k);
        for (let i = 0; i < b.size; i++) {
          let sum = 0;
          for (let j = 0; j < k; j++) {
            alpha[j] = hostEvidence(pv[i * k + j] as number) + 1;
            sum += alpha[j] as number;
          }
          for (let j = 0; j < k; j++) probs[(done + i) * k + j] = (alpha[j] as number) / sum;
        }
      } else {
        probs.set(pv, done * k);
      }
      keys.forEach((key, i) =>
        (scores.get(key) as Float32Array).set(vals[i + 1] as Float32Array, done),
      );
      done += b.size;
    } finally {
      b.dispose();
    }
    if (Date.now() - lastLog > 15000) {
      log(`deepprob: ${set.name}: ${done}/${set.count} images`);
      lastLog = Date.now();
    }
    if (shouldStop !== undefined) {
      // let a signal handler run (the batches' reads may resolve without a macrotask)
      await new Promise((r) => setTimeout(r, 0));
      if (shouldStop() && done < set.count) return { stoppedAfter: done };
    }
  }
  return { probs, numClasses: k, scores };
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
