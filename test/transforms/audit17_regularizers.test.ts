/**
 * Audit 17: DNN -> BNN conversion of layers with weight regularizers and constraints. They are
 * dropped (the Bayesian prior and its KL term replace them, as MindSpore's TransformToBNN does)
 * with one `deepprob: warning:` naming each layer and option; `quiet: true` silences the console
 * but the result keeps the `warning`. Activity regularizers cannot reach a conversion: tfjs 4.22
 * refuses to apply a layer that has one.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { transforms } from '../../src/index.js';
import { expectBadInput } from '../helpers.js';

const g = (seed: number): ReturnType<typeof tf.initializers.glorotUniform> =>
  tf.initializers.glorotUniform({ seed });

function regularisedMlp(): tf.Sequential {
  const m = tf.sequential();
  m.add(
    tf.layers.dense({
      name: 'hidden',
      units: 4,
      inputShape: [3],
      activation: 'relu',
      kernelInitializer: g(1),
      kernelRegularizer: tf.regularizers.l2({ l2: 0.01 }),
      biasConstraint: tf.constraints.maxNorm({ maxValue: 2 }),
    }),
  );
  m.add(tf.layers.dense({ name: 'plain', units: 4, kernelInitializer: g(2) }));
  m.add(
    tf.layers.dense({
      name: 'out',
      units: 2,
      kernelInitializer: g(3),
      biasRegularizer: tf.regularizers.l1({ l1: 0.1 }),
    }),
  );
  return m;
}

function configOf(model: tf.LayersModel, name: string): Record<string, unknown> {
  return model.getLayer(name).getConfig() as Record<string, unknown>;
}

describe('audit17 transformToBnn: regularizers and constraints of converted layers', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('warns once naming each layer and option; the converted layers carry none of them', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const dnn = regularisedMlp();
    expect(configOf(dnn, 'hidden').kernelRegularizer).not.toBeNull(); // the DNN keeps its own
    const r = await transforms.transformToBnn(dnn);
    expect(warn).toHaveBeenCalledTimes(1);
    const msg = String(warn.mock.calls[0]![0]);
    expect(msg).toMatch(/^deepprob: warning: /);
    expect(msg).toContain("'hidden' (kernelRegularizer, biasConstraint)");
    expect(msg).toContain("'out' (biasRegularizer)");
    expect(msg).not.toContain("'plain'");
    expect(msg).toMatch(/prior replaces them/);
    expect(msg).toMatch(/quiet: true/);
    expect(r.warning).toBe(msg);
    for (const name of ['hidden', 'out']) {
      const c = configOf(r.model, name);
      for (const [k, v] of Object.entries(c)) {
        if (/(Regularizer|Constraint)$/.test(k)) expect(v ?? null).toBeNull();
      }
    }
    r.model.dispose();
    dnn.dispose();
  });

  it('quiet: true prints nothing but the result keeps the warning; a non-boolean quiet is refused', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const dnn = regularisedMlp();
    const r = await transforms.transformToBnn(dnn, { quiet: true });
    expect(warn).not.toHaveBeenCalled();
    expect(r.warning).toMatch(/'hidden'/);
    const t = new transforms.TransformToBNN(dnn, { quiet: true });
    const r2 = await t.transformToBnnLayer('Dense', 'DenseReparam');
    expect(warn).not.toHaveBeenCalled();
    expect(r2.warning).toBe(r.warning);
    await expectBadInput({
      call: 'quiet string',
      arg: 'quiet',
      run: () => new transforms.TransformToBNN(dnn, { quiet: 'yes' as never }),
    });
    r.model.dispose();
    r2.model.dispose();
    dnn.dispose();
  });

  it('no regularizers: no warning; an excluded layer keeps its regularizer and is not named', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const clean = tf.sequential();
    clean.add(tf.layers.dense({ units: 3, inputShape: [2], kernelInitializer: g(4) }));
    const r = await transforms.transformToBnn(clean);
    expect(warn).not.toHaveBeenCalled();
    expect(r.warning).toBeUndefined();
    const dnn = regularisedMlp();
    const r2 = await transforms.transformToBnn(dnn, { excludeLayers: ['hidden'] });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(r2.warning).not.toContain("'hidden'");
    expect(r2.warning).toContain("'out' (biasRegularizer)");
    expect(configOf(r2.model, 'hidden').kernelRegularizer).not.toBeNull();
    [r.model, r2.model, clean, dnn].forEach((m) => m.dispose());
  });

  it('nested model, convolution, recurrent and wrapped layers are named by path and option', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const inner = tf.sequential({ name: 'inner' });
    inner.add(
      tf.layers.conv2d({
        name: 'conv',
        filters: 2,
        kernelSize: 2,
        inputShape: [4, 4, 1],
        kernelInitializer: g(5),
        kernelConstraint: tf.constraints.nonNeg(),
      }),
    );
    inner.add(tf.layers.flatten());
    const outer = tf.sequential();
    outer.add(inner);
    outer.add(tf.layers.dense({ name: 'head', units: 2, kernelInitializer: g(6) }));
    const r = await transforms.transformToBnn(outer);
    expect(r.warning).toContain("'inner/conv' (kernelConstraint)");
    expect(r.warning).not.toContain("'head'");

    const seq = tf.sequential();
    seq.add(
      tf.layers.lstm({
        name: 'lstm',
        units: 3,
        inputShape: [4, 2],
        returnSequences: true,
        recurrentRegularizer: tf.regularizers.l2(),
      }),
    );
    seq.add(
      tf.layers.bidirectional({
        name: 'bi',
        layer: tf.layers.gru({ units: 2, kernelRegularizer: tf.regularizers.l1() }) as never,
      }),
    );
    const r2 = await transforms.transformToBnn(seq);
    expect(r2.warning).toContain("'lstm' (recurrentRegularizer)");
    expect(r2.warning).toContain("'bi' (kernelRegularizer)");
    expect(warn).toHaveBeenCalledTimes(2);
    [r.model, r2.model, outer, seq].forEach((m) => m.dispose());
  });

  it('tfjs 4.22 refuses to apply a layer with an activity regularizer, so none reaches a conversion', () => {
    const m = tf.sequential();
    expect(() =>
      m.add(
        tf.layers.dense({ units: 2, inputShape: [3], activityRegularizer: tf.regularizers.l2() }),
      ),
    ).toThrow(/activity regularizer/);
  });
});
