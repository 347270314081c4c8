/**
 * Argument checks of the deep evidential regression functions: the Normal-Inverse-Gamma
 * parameters (given as the head's `[..., 4D]` output or as four tensors), the targets against
 * them, and the reduction. Every check runs before any arithmetic and names the argument.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import {
  allWithin,
  broadcastShapes,
  checkValues,
  peekValues,
  toFloat,
  type TensorInput,
} from '../../utils/tensor.js';
import {
  headUnitsOf,
  type NormalGammaInput,
  type NormalGammaOutputs,
  type NormalGammaParams,
} from './normal_gamma.js';
import type { Reduction } from './common.js';

const MAX_FLOAT32 = 3.4028234663852886e38;

/** The NIG parameters after the checks, with their broadcast shape. */
export interface CheckedNormalGamma extends NormalGammaOutputs {
  /** The broadcast shape `P` of the four parameters. */
  shape: number[];
}

/** What each parameter must be: its bounds and how the message says it. */
const RANGES: Record<keyof NormalGammaOutputs, { lo: number; open: boolean; text: string }> = {
  gamma: { lo: -MAX_FLOAT32, open: false, text: 'finite gamma' },
  nu: { lo: 0, open: true, text: 'finite nu > 0' },
  alpha: { lo: 1, open: true, text: 'finite alpha > 1' },
  beta: { lo: 0, open: true, text: 'finite beta > 0' },
};

const BLOCKS: Record<keyof NormalGammaOutputs, string> = {
  gamma: 'the first',
  nu: 'the second',
  alpha: 'the third',
  beta: 'the fourth',
};

/** Throw `ArgumentError(name)` unless every value of `t` is in the range of `param`. */
function checkRange(t: tf.Tensor, param: keyof NormalGammaOutputs, name: string): void {
  const { lo, open, text } = RANGES[param];
  if (allWithin(peekValues(t), lo, MAX_FLOAT32, open)) return;
  const expected =
    name === param ? text : `${text} in ${BLOCKS[param]} quarter of ${name}'s last axis`;
  checkValues(t, name, (v) => (open ? v > lo : v >= lo) && v <= MAX_FLOAT32, expected);
}

/** Whether `x` is a `{gamma, nu, alpha, beta}` record rather than a tensor. */
function isParams(x: unknown): x is NormalGammaParams {
  return (
    x !== null &&
    typeof x === 'object' &&
    !(x instanceof tf.Tensor) &&
    !Array.isArray(x) &&
    !ArrayBuffer.isView(x)
  );
}

/**
 * The NIG parameters of `outputs` checked: the head's `[..., 4D]` output (split into its four
 * blocks; errors name `name`) or `{gamma, nu, alpha, beta}` (each converted, checked and named;
 * their shapes must broadcast). Values: `gamma` finite, `nu > 0`, `alpha > 1`, `beta > 0`, all
 * finite. Call it inside a `tf.tidy`: the tensors it makes are the caller's scope's.
 *
 * @param outputs the head's output or the four parameters.
 * @param name the argument `outputs` is, for the messages.
 * @throws ArgumentError naming `name` (or the parameter) when a shape or a value is off.
 */
export function checkNormalGamma(outputs: NormalGammaInput, name = 'outputs'): CheckedNormalGamma {
  if (outputs instanceof tf.Tensor) {
    const o = toFloat(outputs, name);
    headUnitsOf(o.shape, name);
    const [gamma, nu, alpha, beta] = tf.split(o, 4, -1) as [
      tf.Tensor,
      tf.Tensor,
      tf.Tensor,
      tf.Tensor,
    ];
    const p = { gamma, nu, alpha, beta };
    for (const k of Object.keys(RANGES) as (keyof NormalGammaOutputs)[]) checkRange(p[k], k, name);
    return { ...p, shape: gamma.shape };
  }
  if (!isParams(outputs)) {
    throw new ArgumentError(
      name,
      `expected the head's [..., 4D] output tensor or {gamma, nu, alpha, beta}, got ${outputs === null ? 'null' : typeof outputs}`,
    );
  }
  const p = {} as NormalGammaOutputs;
  for (const k of Object.keys(RANGES) as (keyof NormalGammaOutputs)[]) {
    const v = outputs[k];
    if (v === undefined) {
      throw new ArgumentError(k, `missing: ${name} needs gamma, nu, alpha and beta`);
    }
    p[k] = toFloat(v, k);
  }
  const shape = broadcastShapes({
    gamma: p.gamma.shape,
    nu: p.nu.shape,
    alpha: p.alpha.shape,
    beta: p.beta.shape,
  });
  for (const k of Object.keys(RANGES) as (keyof NormalGammaOutputs)[]) checkRange(p[k], k, k);
  return { ...p, shape };
}

/** The checked targets and the shape the elementwise results take. */
export interface CheckedTargets {
  /** Finite float targets, reshaped to broadcast against the parameters. */
  y: tf.Tensor;
  /** The shape of an elementwise result. */
  shape: number[];
}

const same = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Targets `y` against the parameters' shape `P`: `y` of shape `P`; or `[..., N]` when
 * `P = [..., N, 1]` (a regressor's `[N]` targets against one output unit, the result `[N]`, not
 * the `[N, N]` broadcast); or, unless `strict` (targets of a head's output), a shape broadcasting
 * with `P` to `P` or to `y`'s own shape (e.g. scalar parameters at many targets). Values finite.
 *
 * @param y the targets.
 * @param params the parameters' broadcast shape.
 * @param paramsName what the parameters are called in the message.
 * @param strict whether `y` must be `P` (or `[..., N]` for `P = [..., N, 1]`).
 * @throws ArgumentError naming `y` otherwise.
 */
export function checkTargets(
  y: TensorInput,
  params: readonly number[],
  paramsName: string,
  strict = false,
): CheckedTargets {
  const t = toFloat(y, 'y');
  let yt = t;
  let shape: number[];
  const last = params[params.length - 1];
  if (same(t.shape, params)) {
    shape = [...params];
  } else if (last === 1 && same(t.shape, params.slice(0, -1))) {
    yt = tf.expandDims(t, -1);
    shape = [...t.shape];
  } else {
    let b: number[] | undefined;
    try {
      b = strict ? undefined : broadcastShapes({ y: t.shape, [paramsName]: params });
    } catch {
      b = undefined;
    }
    if (b === undefined || !(same(b, params) || same(b, t.shape))) {
      const alt = last === 1 ? ` or [${params.slice(0, -1).join(',')}]` : '';
      throw new ArgumentError(
        'y',
        `expected targets of shape [${params.join(',')}]${alt} to match ${paramsName}, got [${t.shape.join(',')}]`,
      );
    }
    shape = b;
  }
  if (!allWithin(peekValues(t), -MAX_FLOAT32, MAX_FLOAT32)) {
    checkValues(t, 'y', Number.isFinite, 'finite targets');
  }
  return { y: yt, shape };
}

/**
 * The reduction, checked before any work.
 * @throws ArgumentError naming `reduction` unless `'mean'`, `'sum'` or `'none'`.
 */
export function checkReduction(reduction: unknown): Reduction {
  if (reduction === 'mean' || reduction === 'sum' || reduction === 'none') return reduction;
  throw new ArgumentError(
    'reduction',
    `expected 'mean', 'sum' or 'none', got ${typeof reduction === 'string' ? `'${reduction}'` : String(reduction)}`,
  );
}

/**
 * The reduction of an elementwise result of `shape`, checked before any work: a mean needs at
 * least one element.
 * @throws ArgumentError naming `reduction` when it is not `'mean'`, `'sum'` or `'none'`, or `y`
 *   for the mean of no elements.
 */
export function checkReducible(reduction: unknown, shape: readonly number[]): Reduction {
  const r = checkReduction(reduction);
  if (r === 'mean' && shape.some((d) => d === 0)) {
    throw new ArgumentError('y', "expected at least one target for reduction 'mean'");
  }
  return r;
}

/**
 * Reduce an elementwise loss of `shape` (checked by {@link checkReducible}): the mean over all
 * elements (the reference's `reduce_mean`), the sum, or the loss itself reshaped to `shape`.
 */
export function reduceElementwise(
  loss: tf.Tensor,
  reduction: Reduction,
  shape: readonly number[],
): tf.Tensor {
  if (reduction === 'none') return tf.reshape(loss, [...shape]);
  return reduction === 'sum' ? tf.sum(loss) : tf.mean(loss);
}
