/**
 * The shift/OOD benchmark as a Node runner (behind `deepprob shift`): load checkpoints written by
 * `deepprob train`, build the methods (plain, temperature scaling, MC dropout, Bayesian sampling,
 * deep ensembles, last-layer Laplace, SWAG, evidential), build rotated / corrupted MNIST from the
 * test set and the OOD sets, run {@link shiftBenchmark}, and write `shift.json` and a
 * self-contained `shift.html` with one chart per metric (metric vs shift intensity, one line per
 * method).
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  CORRUPTIONS,
  corruptImages,
  rotateImages,
  uniformNoiseImages,
} from '../../data/corruptions.js';
import { checkDataDir, loadDataset, parseDatasetSpec } from '../../data/files.js';
import { datasetDirFromEnv } from '../../data/file_readers.js';
import { bayesianLayers, setMode } from '../../layers/index.js';
import { atomicWriteFile, makeDirs } from '../../utils/file_io.js';
import { type TrainConfig } from '../run_config.js';
import { loadSplit } from '../run_data.js';
import { ArgumentError } from '../../utils/errors.js';
import { setSeed } from '../../utils/seed.js';
import { dirichletOutputs } from '../../toolbox/evidential/dirichlet.js';
import { evidenceFunction } from '../../toolbox/evidential/evidence.js';
import { fit } from '../../toolbox/fit.js';
import { withMcDropout } from '../../toolbox/model_surgery.js';
import { withPosteriorScale } from '../../toolbox/posthoc/posterior_scale.js';
import { allLayersLaplace } from '../../toolbox/posthoc/laplace/fit_all_layers.js';
import { lastLayerLaplace } from '../../toolbox/posthoc/laplace/fit_last_layer.js';
import type { HessianStructure } from '../../toolbox/posthoc/laplace/curvature.js';
import { swagPredictor } from '../../toolbox/posthoc/swag.js';
import { trainSwag } from '../../toolbox/posthoc/swag_train.js';
import { fitTemperature } from '../../toolbox/posthoc/temperature.js';
import { classNll, modelLogits } from '../../toolbox/class_outputs.js';
import { fitMixtureTemperature } from '../../toolbox/posthoc/mixture_temperature.js';
import { applyWithMcDropout, hasDropout } from '../../toolbox/predictors.js';
import { shiftBenchmark, shiftBenchmarkSteps } from '../../toolbox/shift/benchmark.js';
import type { OodSet, ShiftMethod, ShiftSet } from '../../toolbox/shift/benchmark_types.js';
import { formatShiftTable } from '../../toolbox/shift/shift_table.js';
import { shiftReportHtml } from '../../toolbox/shift/html.js';

import { RunInterrupted, gracefulStop } from '../graceful_stop.js';
import { openRun } from '../open_run.js';
import { checkWritableDir } from '../run_dir.js';
import { checkShiftMethod } from './checks.js';
import { shuffledSet, sliceSet, tensorsOf } from './sets.js';
import type { ShiftRunOptions, ShiftRunResult } from './spec.js';
import { disposeModel } from '../../layers/dispose_model.js';

interface Loaded {
  model: tf.LayersModel;
  cfg: TrainConfig;
}

async function load(dir: string): Promise<Loaded> {
  const run = await openRun(dir);
  return { model: run.model, cfg: run.config };
}

function deterministic(
  model: tf.LayersModel,
  transform?: (logits: tf.Tensor) => tf.Tensor,
): ShiftMethod['predict'] {
  const logitsOf = modelLogits(model);
  return (x) =>
    tf.tidy(() => {
      const z = logitsOf(x, false);
      return tf.expandDims(
        tf.softmax(transform !== undefined ? transform(z) : z),
        0,
      ) as tf.Tensor3D;
    });
}

/**
 * `s` stochastic passes: the Bayesian layers' weight samples, or with `mcDropout` the dropout
 * layers as in training and every other layer at inference (`applyWithMcDropout`: BatchNorm keeps
 * its moving statistics and is not updated).
 */
function sampled(
  model: tf.LayersModel,
  s: number,
  mcDropout: boolean,
  temperature = 1,
): ShiftMethod['predict'] {
  const logitsOf = mcDropout
    ? modelLogits(model, (x) => applyWithMcDropout(model, x) as tf.Tensor)
    : modelLogits(model);
  return (x) =>
    tf.tidy(() => {
      const out: tf.Tensor[] = [];
      for (let i = 0; i < s; i++) {
        const z = logitsOf(x, false);
        out.push(tf.softmax(temperature === 1 ? z : tf.div(z, temperature)));
      }
      return tf.stack(out) as tf.Tensor3D;
    });
}

/**
 * Run the benchmark for the given methods and write `shift.json` / `shift.html` in `out`.
 *
 * @example
 * ```ts
 * await runShiftBenchmark({ methods: [parseMethodSpec('plain:runs/plain'), parseMethodSpec('laplace:runs/plain')] });
 * ```
 */
export async function runShiftBenchmark(options: ShiftRunOptions): Promise<ShiftRunResult> {
  const log = options.log ?? ((line: string): void => void process.stderr.write(`${line}\n`));
  if (!Array.isArray(options.methods) || options.methods.length === 0) {
    throw new ArgumentError('methods', 'expected at least one method spec');
  }
  // rows, summaries and chart lines are keyed by the method's name: two of one name would merge
  const seenNames = new Map<string, number>();
  options.methods.forEach((spec, i) => {
    const name = spec?.name ?? spec?.kind;
    const prev = seenNames.get(name);
    if (prev !== undefined) {
      throw new ArgumentError(
        'methods',
        `methods ${prev + 1} and ${i + 1} are both named '${name}': give one a label (label=${spec.kind}:...)`,
      );
    }
    seenNames.set(name, i);
  });
  const limit = options.limit ?? 1000;
  const calSize = options.calibrationSize ?? 1000;
  const s = options.mcSamples ?? 20;
  for (const [v, name] of [
    [limit, 'limit'],
    [calSize, 'calibrationSize'],
    [s, 'mcSamples'],
  ] as const) {
    if (!Number.isInteger(v) || v < 1)
      throw new ArgumentError(name, `expected a positive integer, got ${v}`);
  }
  const families = options.families ?? ['rotation', 'corruption'];
  const angles = options.angles ?? Array.from({ length: 12 }, (_, i) => 15 * (i + 1));
  if (!Array.isArray(angles) || angles.some((a) => typeof a !== 'number' || !Number.isFinite(a))) {
    throw new ArgumentError(
      'angles',
      `expected finite rotation angles in degrees, got ${String(angles)}`,
    );
  }
  if (
    !Array.isArray(families) ||
    families.some((f) => (f as string) !== 'rotation' && (f as string) !== 'corruption')
  ) {
    throw new ArgumentError(
      'families',
      `expected a list of 'rotation' and 'corruption', got ${String(families)}`,
    );
  }
  const severities = options.severities ?? [1, 3, 5];
  if (
    !Array.isArray(severities) ||
    severities.some((v) => !Number.isInteger(v) || v < 1 || v > 5)
  ) {
    throw new ArgumentError(
      'severities',
      `expected corruption severities, integers in 1..5, got ${String(severities)}`,
    );
  }
  const oodNames = options.ood ?? [
    'fashion-mnist',
    ...(datasetDirFromEnv('kmnist') !== undefined ? ['kmnist'] : []),
    'uniform-noise',
  ];
  if (!Array.isArray(oodNames)) {
    throw new ArgumentError('ood', `expected a list of OOD sets, got ${String(oodNames)}`);
  }
  const oodSpecs = oodNames.map((o) => parseDatasetSpec(o, 'ood', ['uniform-noise']));
  const seed = options.seed ?? 1;
  const split = options.split ?? 'head';
  if (split !== 'head' && split !== 'random') {
    throw new ArgumentError('split', `expected 'head' or 'random', got '${String(split)}'`);
  }
  const out = options.out ?? 'runs/shift';
  // written at the end: refuse an unwritable folder before any model or data is loaded
  checkWritableDir(out, 'out');
  const toDispose: tf.Tensor[] = [];
  const models: tf.LayersModel[] = [];
  // the SWAG posteriors own their moment tensors
  const swagsMade: { dispose: () => void }[] = [];
  const loaded = new Map<string, Loaded>();
  const get = async (dir: string): Promise<Loaded> => {
    const have = loaded.get(dir);
    if (have !== undefined) return have;
    const l = await load(dir);
    loaded.set(dir, l);
    models.push(l.model);
    return l;
  };
  // the stop messages go to stderr whatever `log` is
  const stop = gracefulStop(options.handleSignals === true, (l) => console.error(l), {
    first: 'finishing the current set, then writing the sets done as a partial report and stopping',
    second: `the files in ${out} are complete earlier ones or none (written atomically)`,
  });
  const stopped = (): Promise<boolean> => stop.requested();
  const interrupted = (what: string): RunInterrupted =>
    new RunInterrupted(
      stop.signal ?? 'SIGINT',
      `deepprob: stopped by ${stop.signal ?? 'SIGINT'} ${what}; nothing written to ${out}`,
    );
  try {
    const first = await get(options.methods[0]?.checkpoints[0] as string);
    const cfg = first.cfg;
    // the test and training images come from the first run's own data (its saved --data-dir)
    checkDataDir(
      cfg.dataDir,
      cfg.dataset,
      'checkpoint',
      `the data folder saved with ${options.methods[0]?.checkpoints[0] as string}`,
    );
    const testFile = loadSplit(cfg, 'test');
    const test = split === 'random' ? shuffledSet(testFile, seed) : testFile;
    if (limit + calSize > test.count) {
      throw new ArgumentError(
        'limit',
        `limit + calibrationSize = ${limit + calSize} exceeds the ${test.count} test images`,
      );
    }
    const cleanSet = sliceSet(test, 0, limit);
    const clean = tensorsOf(cleanSet, cfg);
    toDispose.push(clean.x);
    const calib = tensorsOf(sliceSet(test, limit, calSize), cfg);
    toDispose.push(calib.x);
    const shifted: ShiftSet[] = [];
    if (families.includes('rotation')) {
      for (const a of angles) {
        const t = tensorsOf(rotateImages(cleanSet, a), cfg);
        toDispose.push(t.x);
        shifted.push({ family: 'rotation', level: a, x: t.x, labels: t.labels });
      }
    }
    if (families.includes('corruption')) {
      for (const c of CORRUPTIONS) {
        for (const sev of severities) {
          const t = tensorsOf(corruptImages(cleanSet, c, sev, seed), cfg);
          toDispose.push(t.x);
          shifted.push({ family: c, level: sev, x: t.x, labels: t.labels });
        }
      }
    }
    const ood: OodSet[] = [];
    for (const { name, dir } of oodSpecs) {
      const set =
        name === 'uniform-noise'
          ? uniformNoiseImages(cleanSet, limit, seed)
          : sliceSet(
              loadDataset(name, { split: 'test', ...(dir !== undefined ? { dir } : {}) }),
              0,
              limit,
            );
      if (set.channels !== cleanSet.channels) {
        throw new ArgumentError(
          'ood',
          `${name} has ${set.channels}-channel images, ${cfg.dataset}'s have ${cleanSet.channels}`,
        );
      }
      const t = tensorsOf(set, cfg);
      toDispose.push(t.x);
      ood.push({ name, x: t.x });
    }
    // every method's checkpoints against the images, the classes and its kind, before any work
    for (const spec of options.methods) {
      const ms = await Promise.all(spec.checkpoints.map(async (d) => (await get(d)).model));
      checkShiftMethod(spec, ms, clean.x.shape.slice(1), cleanSet);
    }
    let train: { x: tf.Tensor; labels: Int32Array } | undefined;
    const trainData = (): { x: tf.Tensor; labels: Int32Array } => {
      if (train === undefined) {
        const set = loadSplit(cfg, 'train');
        train = tensorsOf(
          options.trainLimit !== undefined ? sliceSet(set, 0, options.trainLimit) : set,
          cfg,
        );
        toDispose.push(train.x);
      }
      return train;
    };
    const methods: ShiftMethod[] = [];
    for (const spec of options.methods) {
      const name = spec.name ?? spec.kind;
      if (await stopped()) throw interrupted(`while preparing the methods (before ${name})`);
      const dirs = spec.checkpoints;
      const l = await get(dirs[0] as string);
      setSeed(seed);
      log(`shift: preparing ${name} (${spec.kind}: ${dirs.join(', ')})`);
      switch (spec.kind) {
        case 'plain':
          methods.push({ name, predict: deterministic(l.model) });
          break;
        case 'temperature': {
          const logits = modelLogits(l.model)(calib.x, false);
          const t = fitTemperature(logits, calib.labels);
          logits.dispose();
          log(
            `shift: temperature ${t.temperature.toFixed(3)} (held-out NLL ${t.nllBefore.toFixed(4)} -> ${t.nllAfter.toFixed(4)})`,
          );
          methods.push({ name, predict: deterministic(l.model, (z) => tf.div(z, t.temperature)) });
          break;
        }
        case 'bayes': {
          setMode(l.model, 'sample');
          const tau = spec.posteriorScale ?? 1;
          const base = sampled(l.model, s, false);
          methods.push({
            name,
            predict: tau === 1 ? base : (x) => withPosteriorScale(l.model, tau, () => base(x)),
          });
          break;
        }
        case 'bayes-temperature': {
          // one temperature on every sample's logits, fitted on the calibration images' MC NLL
          setMode(l.model, 'sample');
          const tau = spec.posteriorScale ?? 1;
          const scaled = <T>(fn: () => T): T =>
            tau === 1 ? fn() : withPosteriorScale(l.model, tau, fn);
          const logitsOf = modelLogits(l.model);
          const z = scaled(() =>
            tf.tidy(() => tf.stack(Array.from({ length: s }, () => logitsOf(calib.x, false)))),
          );
          const t = fitMixtureTemperature(z, calib.labels);
          z.dispose();
          log(
            `shift: MC temperature ${t.temperature.toFixed(3)} (held-out NLL ${t.nllBefore.toFixed(4)} -> ${t.nllAfter.toFixed(4)})`,
          );
          const base = sampled(l.model, s, false, t.temperature);
          methods.push({ name, predict: (x) => scaled(() => base(x)) });
          break;
        }
        case 'mc-dropout': {
          let m = l.model;
          if (!hasDropout(m)) {
            m = await withMcDropout(l.model, 0.25);
            models.push(m);
            const d = trainData();
            const y = tf.tensor1d(d.labels, 'int32');
            toDispose.push(y);
            const logitsOf = modelLogits(m);
            await fit(
              m,
              (xb, yb) => classNll(logitsOf(xb, true), yb, 'logits'),
              { x: d.x, y },
              { epochs: 1, batchSize: 64, learningRate: 1e-4 },
            );
          }
          methods.push({ name, predict: sampled(m, s, true) });
          break;
        }
        case 'ensemble': {
          // a member with Bayesian layers samples its posterior: ceil(S / M) draws each, so an
          // ensemble of M Bayesian nets costs about what one Bayesian net's S draws cost
          const members = await Promise.all(dirs.map((d) => get(d)));
          const draws = Math.max(1, Math.ceil(s / members.length));
          const perMember = members.map((mm) => {
            if (bayesianLayers(mm.model).length === 0) return deterministic(mm.model);
            setMode(mm.model, 'sample');
            return sampled(mm.model, draws, false);
          });
          methods.push({
            name,
            predict: (x) => tf.tidy(() => tf.concat(perMember.map((p) => p(x))) as tf.Tensor3D),
          });
          break;
        }
        case 'laplace':
        case 'laplace-diag':
        case 'laplace-full': {
          const structure: HessianStructure =
            spec.kind === 'laplace' ? 'kron' : spec.kind === 'laplace-diag' ? 'diag' : 'full';
          const d = trainData();
          const la = lastLayerLaplace(l.model, d.x, d.labels, { hessianStructure: structure });
          const delta = la.optimizePriorPrecision();
          log(
            `shift: Laplace (${structure}) prior precision ${delta.toPrecision(4)} by marginal likelihood`,
          );
          methods.push({ name, predict: (x) => la.sampleProbs(x, s, seed) });
          break;
        }
        case 'laplace-all':
        case 'laplace-all-diag': {
          const structure = spec.kind === 'laplace-all' ? 'kron' : 'diag';
          const d = trainData();
          const la = allLayersLaplace(l.model, d.x, d.labels, { hessianStructure: structure });
          const delta = la.optimizePriorPrecision();
          log(
            `shift: Laplace all layers (${structure}) prior precision ${delta.toPrecision(4)} by marginal likelihood`,
          );
          methods.push({ name, predict: (x) => la.sampleProbs(x, s, seed) });
          break;
        }
        case 'swag':
        case 'multiswag': {
          const swags = [];
          for (const dir of dirs) {
            // train a copy: the loaded checkpoint may be shared with other methods
            const copy = await load(dir);
            models.push(copy.model);
            const d = trainData();
            const swag = await trainSwag(copy.model, d.x, d.labels, {
              epochs: options.swagEpochs ?? 1,
              lr: options.swagLr ?? 0.005,
              rank: options.swagRank ?? 20,
              collectPerEpoch: Math.max(options.swagRank ?? 20, 20),
              seed,
              onEpoch: (e, loss) =>
                log(`shift: SWAG ${dir} epoch ${e + 1} loss ${loss.toFixed(4)}`),
            });
            swagsMade.push(swag);
            swags.push(swag);
          }
          const pred = swagPredictor(swags, { seed });
          methods.push({ name, predict: (x) => pred.predictSamples(x, s) });
          break;
        }
        case 'evidential': {
          const ev = evidenceFunction('softplus');
          methods.push({
            name,
            predict: (x) =>
              tf.tidy(() => {
                const o = dirichletOutputs(ev(l.model.apply(x, { training: false }) as tf.Tensor));
                const p = o.probs.clone();
                tf.dispose(Object.values(o) as tf.Tensor[]);
                return tf.expandDims(p, 0) as tf.Tensor3D;
              }),
          });
          break;
        }
      }
    }
    if (await stopped()) throw interrupted('while preparing the methods');
    const benchmarkOptions = {
      methods,
      clean: { family: 'clean', level: 0, x: clean.x, labels: clean.labels },
      shifted,
      ood,
      calibration: calib,
      alpha: options.alpha ?? 0.05,
      conformalScore: options.conformalScore ?? 'aps',
      seed,
      log,
    };
    const { result, stopped: at } =
      stop.shouldStop !== undefined
        ? await shiftBenchmarkSteps(benchmarkOptions, stop.shouldStop)
        : { result: shiftBenchmark(benchmarkOptions), stopped: undefined };
    const table = formatShiftTable(result);
    makeDirs(out);
    const jsonPath = join(out, 'shift.json');
    const htmlPath = join(out, 'shift.html');
    const meta = {
      limit,
      split,
      calibrationSize: calSize,
      mcSamples: s,
      methods: options.methods,
      date: new Date().toISOString(),
      ...(at !== undefined
        ? {
            partial: {
              signal: stop.signal,
              complete: result.summary.map((m) => m.method),
              stoppedIn: at.methodDone ? undefined : at.method,
              note:
                `stopped by ${stop.signal}: only the methods in 'complete' have every set and a summary` +
                (at.methodDone ? '' : `; the rows of '${at.method}' stop at the last set done`) +
                '; later methods are missing',
            },
          }
        : {}),
    };
    if (at !== undefined && result.rows.length === 0) {
      throw interrupted(`during ${at.method}'s first set`);
    }
    atomicWriteFile(jsonPath, JSON.stringify({ meta, ...result }, null, 1));
    atomicWriteFile(htmlPath, await shiftReportHtml(result, meta));
    if (at !== undefined) {
      const signal = stop.signal ?? 'SIGINT';
      throw new RunInterrupted(
        signal,
        `deepprob: stopped by ${signal} ` +
          (at.methodDone ? `after method ${at.method}` : `during method ${at.method}`) +
          ` (${result.rows.length} sets done; complete methods: ` +
          `${result.summary.map((m) => m.method).join(', ') || 'none'}); wrote the partial ` +
          `report, marked 'partial', to ${jsonPath} and ${htmlPath}` +
          (result.summary.length > 0 ? `\n${table}` : ''),
      );
    }
    return { result, table, jsonPath, htmlPath };
  } finally {
    await stop.end();
    tf.dispose(toDispose);
    for (const sw of swagsMade) sw.dispose();
    for (const m of models) disposeModel(m);
  }
}

export {
  SHIFT_METHOD_KINDS,
  parseMethodSpec,
  type ShiftMethodKind,
  type ShiftMethodSpec,
  type ShiftRunOptions,
  type ShiftRunResult,
} from './spec.js';
