/**
 * The Conv1D kind of Bayesian layer (channels last, as TF.js's `conv1d` and TFP's
 * `Convolution1DReparameterization` / `Convolution1DFlipout`):
 * `y = activation(conv1d(x, W) + b)` on inputs `[batch, length, inChannels]`, with
 * `W ~ q(W)` of shape `[k, inChannels / group, outChannels]` (the tfjs `conv1d` kernel layout, so
 * a converted `Conv1D` layer's kernel is the posterior mean as it is).
 *
 * It runs as the Conv2D kind on a height-1 image: `x -> [batch, 1, length, inChannels]`, the
 * kernel `-> [1, k, inChannels / group, outChannels]`, output squeezed back to
 * `[batch, length', outChannels]` with
 *
 * $$L' = \lceil L / s\rceil\ (\text{same}),\qquad
 *   L' = \lfloor (L + p_l + p_r - (k - 1)d - 1) / s\rfloor + 1\ (\text{valid}, \text{pad}),$$
 *
 * so every estimator of the registry applies unchanged (Flipout's signs per example and channel,
 * local reparameterization's `conv1d(x², σ²)`). Arguments as the 2-D kind, one-dimensional:
 * `kernelSize` `k` (or `[k]`), `stride`/`strides`, `dilation`/`dilationRate`, `padding`
 * `'same' | 'valid' | 'causal'` (TF.js; causal pads `(k - 1)d` on the left only) or, with
 * `padMode: 'pad'`, a number or `[left, right]`; `group`; `dataFormat: 'channelsFirst'` for
 * inputs `[batch, inChannels, length]` (output `[batch, outChannels, length']`).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { checkConvArgsObject } from './conv_base.js';
import { ConvVariational, type ConvVariationalArgs } from './conv_variational.js';

/** Arguments of the Bayesian Conv1D layers (TF.js's `conv1d` names or MindSpore's). */
export interface Conv1DVariationalArgs extends Omit<
  ConvVariationalArgs,
  'kernelSize' | 'stride' | 'strides' | 'dilation' | 'dilationRate' | 'padding'
> {
  /** Kernel length `k` (or `[k]`). Required. */
  kernelSize: number | readonly number[];
  /** Stride (MindSpore's name). Default 1. */
  stride?: number | readonly number[];
  /** Stride (TF.js's name). Default 1. */
  strides?: number | readonly number[];
  /** Dilation (MindSpore's name). Default 1. */
  dilation?: number | readonly number[];
  /** Dilation (TF.js's name). Default 1. */
  dilationRate?: number | readonly number[];
  /**
   * TF.js's `'same'`, `'valid'` or `'causal'`; or, with `padMode: 'pad'`, explicit padding, a
   * number (both ends) or `[left, right]`.
   */
  padding?: 'same' | 'valid' | 'causal' | number | readonly number[];
}

/**
 * A 1-D length argument (`n` or `[n]`, an integer >= 1) as the 2-D pair `[1, n]`; undefined stays
 * undefined.
 * @throws ArgumentError naming `name` (as the user spelled it) with the value given.
 */
function lift2d(v: unknown, name: string): [number, number] | undefined {
  if (v === undefined) return undefined;
  const n: unknown =
    typeof v === 'number' ? v : Array.isArray(v) && v.length === 1 ? v[0] : undefined;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw new ArgumentError(
      name,
      `expected an integer >= 1 or [n] for a 1-D convolution, got ${JSON.stringify(v)}`,
    );
  }
  return [1, n];
}

/** The 2-D arguments of a 1-D convolution (height 1). */
function to2d(a: Conv1DVariationalArgs): ConvVariationalArgs {
  checkConvArgsObject(a);
  const out: Record<string, unknown> = { ...a };
  for (const key of ['kernelSize', 'stride', 'strides', 'dilation', 'dilationRate'] as const) {
    if (a[key] !== undefined) out[key] = lift2d(a[key], key);
  }
  const p = a.padding;
  if (p === 'causal') {
    // pad (k - 1) d on the left only: output t sees inputs <= t
    const k = (out.kernelSize as [number, number] | undefined)?.[1];
    if (k === undefined) throw new ArgumentError('kernelSize', 'is required (a number or [k])');
    const d = ((out.dilation ?? out.dilationRate) as [number, number] | undefined)?.[1] ?? 1;
    out.padMode = 'pad';
    out.padding = [0, 0, (k - 1) * d, 0];
  } else if (typeof p === 'number') {
    out.padding = [0, 0, p, p];
  } else if (Array.isArray(p)) {
    if (p.length !== 2) {
      throw new ArgumentError(
        'padding',
        `expected a number or [left, right] for a 1-D convolution, got ${JSON.stringify(p)}`,
      );
    }
    out.padding = [0, 0, p[0], p[1]];
  }
  return out as unknown as ConvVariationalArgs;
}

/** Bayesian Conv1D layer; the concrete classes (one per estimator) are made in `bayesian_classes.ts`. */
export class Conv1DVariational extends ConvVariational {
  /**
   * @param tfjsOrMindSporeArgs see {@link Conv1DVariationalArgs}; a bias by default when written
   *   with `filters` (TF.js), none with `outChannels` (MindSpore), as the 2-D kind.
   */
  constructor(tfjsOrMindSporeArgs: Conv1DVariationalArgs) {
    super(to2d(tfjsOrMindSporeArgs));
  }

  protected override channelsOf(inputShape: tf.Shape | number[]): number {
    const layout =
      this.dataFormat === 'channelsFirst'
        ? '[batch, inChannels, length]'
        : '[batch, length, inChannels]';
    return this.channelsOfRank(inputShape, 3, `inputs of shape ${layout}`);
  }

  protected override kernelShape(inChannels: number): number[] {
    const [kh, kw, ci, co] = super.kernelShape(inChannels) as [number, number, number, number];
    void kh;
    return [kw, ci, co];
  }

  protected override prepareInput(x: tf.Tensor): tf.Tensor {
    return tf.expandDims(super.prepareInput(x), 1);
  }

  protected override restoreOutput(y: tf.Tensor, input: tf.Tensor): tf.Tensor {
    return super.restoreOutput(tf.squeeze(y, [1]), input);
  }

  protected override linear(x: tf.Tensor, kernel: tf.Tensor): tf.Tensor {
    const [k, ci, co] = kernel.shape as [number, number, number];
    return super.linear(x, tf.reshape(kernel, [1, k, ci, co]));
  }

  protected override lastOutputShape(shape: tf.Shape): tf.Shape {
    const [b, , l, c] = super.lastOutputShape([shape[0] ?? null, 1, shape[1] ?? null, 0]);
    return [b ?? null, l ?? null, c ?? null];
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config = super.getConfig();
    const [, , left, right] = this.padding;
    return {
      ...config,
      kernelSize: this.kernelSize[1],
      stride: this.stride[1],
      dilation: this.dilation[1],
      padding: [left, right],
    };
  }
}
