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
import { checkDataDir, loadDataset } from '../../data/files.js';
import { atomicWriteFile, makeDirs } from '../../utils/file_io.js';
import { loadSplit } from '../run_data.js';
import { ArgumentError } from '../../utils/errors.js';
import { setSeed } from '../../utils/seed.js';
import { shiftBenchmark, shiftBenchmarkSteps } from '../../toolbox/shift/benchmark.js';
import type { OodSet, ShiftMethod, ShiftSet } from '../../toolbox/shift/benchmark_types.js';
import { formatShiftTable } from '../../toolbox/shift/shift_table.js';
import { shiftReportHtml } from '../../toolbox/shift/html.js';
import { RunInterrupted, gracefulStop } from '../graceful_stop.js';
import { checkShiftMethod } from './checks.js';
import { shuffledSet, sliceSet, tensorsOf } from './sets.js';
import type { ShiftRunOptions, ShiftRunResult } from './spec.js';
import { disposeModel } from '../../layers/dispose_model.js';
import { load, prepareMethod, type Loaded } from './prepare_method.js';
import { resolveRunOptions } from './run_options.js';

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
  const { limit, calSize, s, families, angles, severities, oodSpecs, seed, split, out } =
    resolveRunOptions(options);
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
      const method = await prepareMethod(spec, name, l, {
        options,
        s,
        seed,
        calib,
        trainData,
        get,
        models,
        toDispose,
        swagsMade,
        log,
      });
      if (method !== undefined) methods.push(method);
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
