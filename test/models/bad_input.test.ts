/**
 * Bad input on `models` (the zoo, its layer lists and geometry helpers): each row must throw an
 * `ArgumentError` naming the argument or option before any layer is made (never tfjs's 'Negative
 * dimension size', a NaN/Infinity size, a silently ignored option or an impossible dropout rate).
 */
import { describe, it } from 'vitest';
import * as models from '../../src/models/index.js';
import { expectBadInput, type BadInputCase } from '../helpers.js';

const loose = <T>(v: unknown): T => v as T;

const cases: BadInputCase[] = [
  { call: 'outSize(NaN, 3, 1, valid)', run: () => models.outSize(NaN, 3, 1, 'valid'), arg: 'n' },
  {
    call: 'outSize stride 0 (was Infinity)',
    run: () => models.outSize(28, 3, 0, 'valid'),
    arg: 's',
  },
  { call: 'outSize kernel -3 (was 32)', run: () => models.outSize(28, -3, 1, 'valid'), arg: 'k' },
  { call: "outSize padding 'x'", run: () => models.outSize(28, 3, 1, loose('x')), arg: 'p' },
  { call: 'featureSide(null, 28)', run: () => models.featureSide(loose(null), 28), arg: 'specs' },
  { call: 'minInputSide(null)', run: () => models.minInputSide(loose(null)), arg: 'specs' },
  {
    call: 'createModel lenet5 of 2x2 images (tfjs "Negative dimension size" before)',
    run: () => models.createModel('lenet5', { inputShape: [2, 2, 1] }),
    arg: 'inputShape',
    message: /too small for lenet5/,
  },
  {
    call: 'createModel lenet5 inputShape [28, 28]',
    run: () => models.createModel('lenet5', { inputShape: loose([28, 28]) }),
    arg: 'inputShape',
  },
  {
    call: 'createModel unknown option',
    run: () => models.createModel('lenet5', loose({ num_classes: 3 })),
    arg: 'num_classes',
    message: /did you mean numClasses/,
  },
  {
    call: "createModel lenet activation 'relu' (a fixed activation)",
    run: () => models.createModel('lenet', { activation: 'relu' }),
    arg: 'activation',
    message: /fixed activation; the models that take one are lenet5, bayes-lenet5/,
  },
  {
    call: "createModel 3conv3fc activation 'tanh'",
    run: () => models.createModel('3conv3fc', { activation: loose('tanh') }),
    arg: 'activation',
    message: /one of softplus, relu for 3conv3fc, got "tanh"/,
  },
  { call: 'lenet dropout 1.5', run: () => models.lenet({ dropout: 1.5 }), arg: 'dropout' },
  { call: 'lenet dropout -0.1', run: () => models.lenet({ dropout: -0.1 }), arg: 'dropout' },
  { call: 'lenetSpec(10, 2)', run: () => models.lenetSpec(10, 2), arg: 'dropout' },
  { call: 'alexnetSpec(0)', run: () => models.alexnetSpec(0), arg: 'numClasses' },
  {
    call: 'buildSequential(null, ...)',
    run: () => models.buildSequential(loose(null), [28, 28, 1], { name: 'x' }),
    arg: 'specs',
  },
];

describe('models: bad input is an ArgumentError naming it, before any layer is made', () => {
  it.each(cases.map((c) => [c.call, c] as const))('%s', async (_call, c) => {
    await expectBadInput(c);
  });
});
