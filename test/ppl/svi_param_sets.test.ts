/**
 * SVI steps that touch different parameters (Pyro's semi-supervised VAE alternates a step with
 * its classifier and one without): each parameter keeps its own optimizer moments, and a
 * parameter first read by a later step is trained. Reference: Adam written in float64 JS with
 * moments per parameter name (tfjs's global bias correction `1 - beta^t`, t = the optimizer's steps).
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { ppl } from '../../src/index.js';

afterEach(() => ppl.clearParamStore());

/** loss(b) = (b - 2)^2, plus sum_i (a_i - 1 - b)^2 when `withA`; a has shape [2]. */
const model = (withA: boolean): void => {
  // a is read first, so a step without it shifts b to a's position in the gradient list
  const a = withA ? ppl.param('a', tf.tensor1d([0, 3])) : null;
  const b = ppl.param('b', tf.scalar(0.5));
  ppl.factor('fb', tf.neg(tf.square(tf.sub(b, 2))));
  if (a !== null) ppl.factor('fa', tf.neg(tf.sum(tf.square(tf.sub(tf.sub(a, 1), b)))));
};
const guide = (): void => undefined;

/** Adam in float64 with per-name moments; returns the values after the steps. */
function adamRef(flags: boolean[], lr: number): { a: number[]; b: number } {
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  const x: Record<string, number[]> = { b: [0.5], a: [0, 3] };
  const m: Record<string, number[]> = { b: [0], a: [0, 0] };
  const v: Record<string, number[]> = { b: [0], a: [0, 0] };
  flags.forEach((withA, s) => {
    const t = s + 1;
    const b = x.b![0]!;
    const g: Record<string, number[]> = { b: [2 * (b - 2)] };
    if (withA) {
      g.a = x.a!.map((ai) => 2 * (ai - 1 - b));
      g.b![0] = g.b![0]! - x.a!.reduce((acc, ai) => acc + 2 * (ai - 1 - b), 0);
    }
    for (const k of Object.keys(g)) {
      g[k]!.forEach((gi, i) => {
        m[k]![i] = b1 * m[k]![i]! + (1 - b1) * gi;
        v[k]![i] = b2 * v[k]![i]! + (1 - b2) * gi * gi;
        const mh = m[k]![i]! / (1 - b1 ** t);
        const vh = v[k]![i]! / (1 - b2 ** t);
        x[k]![i] = x[k]![i]! - (lr * mh) / (Math.sqrt(vh) + eps);
      });
    }
  });
  return { a: x.a!, b: x.b![0]! };
}

describe('SVI over steps with different parameters', () => {
  it('alternating steps keep each parameter its own Adam moments (it was a shape error)', () => {
    const flags = [true, false, true, true, false, false, true, false];
    const svi = new ppl.SVI(model, guide, tf.train.adam(0.1), new ppl.TraceELBO());
    for (const f of flags) svi.step(f);
    const ref = adamRef(flags, 0.1);
    const ps = ppl.getParamStore();
    expect(ps.value('b')).toBeAllclose(ref.b, { atol: 1e-5 });
    expect(ps.value('a')).toBeAllclose(ref.a, { atol: 1e-5 });
  });

  it('a parameter first read by a later step (it existed already) is trained from then on', () => {
    model(true); // both parameters exist before SVI starts
    const flags = [false, true, true, false, true];
    const svi = new ppl.SVI(model, guide, tf.train.adam(0.1), new ppl.TraceELBO());
    svi.step(false);
    svi.step(true); // creates a's Adam moments
    const before = tf.memory().numTensors;
    for (const f of flags.slice(2)) svi.step(f);
    expect(tf.memory().numTensors).toBe(before);
    const ref = adamRef(flags, 0.1);
    const ps = ppl.getParamStore();
    expect(ps.value('a')).toBeAllclose(ref.a, { atol: 1e-5 });
    expect(ps.value('b')).toBeAllclose(ref.b, { atol: 1e-5 });
  });

  it('two SVIs sharing one optimizer (ss_vae with its auxiliary loss) agree on the moments', () => {
    const opt = tf.train.adam(0.1);
    const full = new ppl.SVI(model, guide, opt, new ppl.TraceELBO());
    const part = new ppl.SVI(() => model(false), guide, opt, new ppl.TraceELBO());
    const flags = [true, false, true, false];
    for (const f of flags) (f ? full : part).step(true);
    const ref = adamRef(flags, 0.1);
    expect(ppl.getParamStore().value('b')).toBeAllclose(ref.b, { atol: 1e-5 });
    expect(ppl.getParamStore().value('a')).toBeAllclose(ref.a, { atol: 1e-5 });
  });
});
