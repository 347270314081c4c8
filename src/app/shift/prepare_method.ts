/**
 * Building the shift runner's methods from their checkpoints: plain softmax, temperature scaling
 * (`softmax(z / T)`), Bayesian sampling, MC temperature, MC dropout, deep ensembles, last-layer
 * and all-layers Laplace, SWAG / MultiSWAG and evidential (`Dir(alpha)`, `alpha = 1 + softplus(z)`)
 * methods, each a {@link ShiftMethod} returning `[S, N, K]` probabilities `p_s(y | x)`.
 */
import * as tf from '@tensorflow/tfjs';
import { bayesianLayers, setMode } from '../../layers/index.js';
import { type TrainConfig } from '../run_config.js';
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
import { hasDropout } from '../../toolbox/predictors.js';
import type { ShiftMethod } from '../../toolbox/shift/benchmark_types.js';
import { openRun } from '../open_run.js';
import { deterministic, sampled } from './method_predict.js';
import type { ShiftMethodSpec, ShiftRunOptions } from './spec.js';

/** A checkpoint loaded by the runner: its model and its training configuration. */
export interface Loaded {
  model: tf.LayersModel;
  cfg: TrainConfig;
}

/** Load the checkpoint written by `deepprob train` in `dir`. */
export async function load(dir: string): Promise<Loaded> {
  const run = await openRun(dir);
  return { model: run.model, cfg: run.config };
}

/** What {@link prepareMethod} uses of the run: shared data, the loader and the owned resources. */
export interface MethodContext {
  /** The run's options (SWAG settings). */
  options: ShiftRunOptions;
  /** Monte Carlo samples `S` per prediction. */
  s: number;
  /** The run's seed. */
  seed: number;
  /** The held-out calibration images and labels. */
  calib: { x: tf.Tensor; labels: Int32Array };
  /** The training images and labels (loaded on first use). */
  trainData: () => { x: tf.Tensor; labels: Int32Array };
  /** A checkpoint, loaded once and shared. */
  get: (dir: string) => Promise<Loaded>;
  /** Models the run disposes at the end (new ones are added). */
  models: tf.LayersModel[];
  /** Tensors the run disposes at the end (new ones are added). */
  toDispose: tf.Tensor[];
  /** SWAG posteriors the run disposes at the end (new ones are added). */
  swagsMade: { dispose: () => void }[];
  /** Progress lines. */
  log: (line: string) => void;
}

/**
 * Build the method of `spec` (named `name`) from its first checkpoint `l` (and, for ensembles and
 * MultiSWAG, its others), fitting what it needs (temperature `T = argmin NLL` on the calibration
 * set, Laplace prior precision by marginal likelihood, SWAG moments by continued SGD).
 */
export async function prepareMethod(
  spec: ShiftMethodSpec,
  name: string,
  l: Loaded,
  ctx: MethodContext,
): Promise<ShiftMethod | undefined> {
  const { options, s, seed, calib, trainData, get, models, toDispose, swagsMade, log } = ctx;
  const dirs = spec.checkpoints;
  switch (spec.kind) {
    case 'plain':
      return { name, predict: deterministic(l.model) };
    case 'temperature': {
      const logits = modelLogits(l.model)(calib.x, false);
      const t = fitTemperature(logits, calib.labels);
      logits.dispose();
      log(
        `shift: temperature ${t.temperature.toFixed(3)} (held-out NLL ${t.nllBefore.toFixed(4)} -> ${t.nllAfter.toFixed(4)})`,
      );
      return { name, predict: deterministic(l.model, (z) => tf.div(z, t.temperature)) };
    }
    case 'bayes': {
      setMode(l.model, 'sample');
      const tau = spec.posteriorScale ?? 1;
      const base = sampled(l.model, s, false);
      return {
        name,
        predict: tau === 1 ? base : (x) => withPosteriorScale(l.model, tau, () => base(x)),
      };
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
      return { name, predict: (x) => scaled(() => base(x)) };
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
      return { name, predict: sampled(m, s, true) };
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
      return {
        name,
        predict: (x) => tf.tidy(() => tf.concat(perMember.map((p) => p(x))) as tf.Tensor3D),
      };
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
      return { name, predict: (x) => la.sampleProbs(x, s, seed) };
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
      return { name, predict: (x) => la.sampleProbs(x, s, seed) };
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
          onEpoch: (e, loss) => log(`shift: SWAG ${dir} epoch ${e + 1} loss ${loss.toFixed(4)}`),
        });
        swagsMade.push(swag);
        swags.push(swag);
      }
      const pred = swagPredictor(swags, { seed });
      return { name, predict: (x) => pred.predictSamples(x, s) };
    }
    case 'evidential': {
      const ev = evidenceFunction('softplus');
      return {
        name,
        predict: (x) =>
          tf.tidy(() => {
            const o = dirichletOutputs(ev(l.model.apply(x, { training: false }) as tf.Tensor));
            const p = o.probs.clone();
            tf.dispose(Object.values(o) as tf.Tensor[]);
            return tf.expandDims(p, 0) as tf.Tensor3D;
          }),
      };
    }
  }
  return undefined;
}
