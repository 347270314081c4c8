/**
 * Audit 19: points a bijector cannot take are `ArgumentError`s naming the point, before any work
 * and leaving no tensor behind — a point that does not broadcast with a parameterized bijector's
 * parameters (`Shift([1, 2, 3]).forward([1, 2])` was a raw tfjs broadcast error), a flow of `R^D`
 * given a point of another dimension (a raw tfjs reshape error) — while composites whose parts act
 * on other shapes (`Chain` through `StickBreaking`) still run.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { bijectors, ppl } from '../../src/index.js';
import { expectArgumentError } from '../helpers.js';

const b = bijectors;
const p: ppl.FlowParam = (_name, init) => init();

/** Runs `call` on `make()`'s bijector: an ArgumentError naming `arg`, no tensor left. */
function refused(
  make: () => bijectors.Bijector,
  call: (bj: bijectors.Bijector) => unknown,
  arg: string,
  message: RegExp,
): void {
  const bj = make();
  const before = tf.memory().numTensors;
  expectArgumentError(() => call(bj), arg, message);
  expect(tf.memory().numTensors, 'tensors left').toBe(before);
  bj.dispose();
}

describe('a point that does not broadcast with the parameters is named', () => {
  const rows: [string, () => bijectors.Bijector][] = [
    ['Shift([1, 2, 3])', () => new b.Shift([1, 2, 3])],
    ['Affine(loc [3], 1)', () => new b.Affine([1, 2, 3], 1)],
    ['ScalarAffine([1, 2, 3])', () => new b.ScalarAffine([1, 2, 3])],
    ['Softplus([1, 2, 3])', () => new b.Softplus([1, 2, 3])],
    ['PowerTransform([0, 1, 2])', () => new b.PowerTransform([0, 1, 2])],
    ['GumbelCDF([0, 1, 2])', () => new b.GumbelCDF([0, 1, 2])],
    ['Invert(Shift([1, 2, 3]))', () => new b.Invert(new b.Shift([1, 2, 3]))],
    [
      'IndependentTransform(Softplus([1, 2, 3]), 1)',
      () => new b.IndependentTransform(new b.Softplus([1, 2, 3]), 1),
    ],
  ];
  it.each(rows)('%s: forward, inverse and both log-dets of a [2] point', (_name, make) => {
    const calls: [string, (bj: bijectors.Bijector) => unknown][] = [
      ['x', (bj) => bj.forward([0.5, 1.5])],
      ['x', (bj) => bj.forwardLogDetJacobian([0.5, 1.5])],
      ['y', (bj) => bj.inverse([0.5, 0.25])],
      ['y', (bj) => bj.inverseAndLogDet([0.5, 0.25])],
    ];
    for (const [arg, call] of calls)
      refused(make, call, arg, /does not broadcast with the parameter shape \[3\]/);
  });

  it('broadcasting points still run: [2, 1] and [3] with parameters [3]; a Chain changing shapes', () => {
    const s = new b.Shift([1, 2, 3]);
    const y = s.forward([[0], [1]]);
    expect(y.shape).toEqual([2, 3]);
    y.dispose();
    // StickBreaking [2] -> [3], then a [3] shift: the chain's parameter shape is not the input's
    const chain = new b.Chain([s, new b.StickBreaking()]);
    const z = chain.forward([0.1, -0.2]);
    expect(z.shape).toEqual([3]);
    const back = chain.inverse(z);
    expect(Array.from(back.dataSync())).toBeAllclose([0.1, -0.2], { atol: 1e-5 });
    tf.dispose([z, back]);
    s.dispose();
  });
});

describe('a flow of R^D given a point of another dimension is named', () => {
  const flows: [string, () => ppl.FlowFactory][] = [
    ['iafFlow', () => ppl.iafFlow()],
    ['affineCouplingFlow', () => ppl.affineCouplingFlow()],
    ['splineCouplingFlow', () => ppl.splineCouplingFlow()],
    ['iterated(2, iafFlow)', () => ppl.iterated(2, ppl.iafFlow())],
  ];
  it.each(flows)('%s on R^3: forward and inverse of [2, 4] and [2, 6] points', (_name, factory) => {
    const kept: tf.Tensor[] = [];
    const reader: ppl.FlowParam = (name, init, options) => {
      const t = p(name, init, options);
      kept.push(t);
      return t;
    };
    const make = (): bijectors.Bijector => factory()(3, reader);
    for (const shape of [
      [2, 4],
      [2, 6],
    ]) {
      const z = tf.zeros(shape);
      refused(make, (bj) => bj.forward(z), 'x', /expected a last dimension of 3/);
      refused(make, (bj) => bj.inverse(z), 'y', /expected a last dimension of 3/);
      z.dispose();
    }
    tf.dispose(kept);
  });
});
