import * as tf from '@tensorflow/tfjs';
import normalRef from '@stdlib/stats-base-dists-normal';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

// Pyro: a factor in a guide adds its log-weight to log q (primitives.factor, has_rsample)
describe('factor in a guide', () => {
  const model = (): void => {
    ppl.sample('z', new D.Normal(0, 1));
  };
  const guideWith = (w: () => tf.Tensor | number, hasRsample: boolean | undefined) => (): void => {
    ppl.sample('z', new D.Normal(0.5, 1));
    ppl.factor('jac', w(), hasRsample === undefined ? {} : { hasRsample });
  };
  const plain = (): void => {
    ppl.sample('z', new D.Normal(0.5, 1));
  };
  const loss = (elbo: ppl.ELBOEstimator, guide: () => void, seed: number): number => {
    setSeed(seed);
    return tf.tidy(() => elbo.differentiableLoss(model, guide, []).dataSync()[0] as number);
  };

  it('every ELBO subtracts the log-weight of a reparameterized guide factor: loss + 0.7', () => {
    const elbos: (() => ppl.ELBOEstimator)[] = [
      () => new ppl.TraceELBO(),
      () => new ppl.TraceELBO({ numParticles: 4, vectorizeParticles: true }),
      () => new ppl.TraceMeanFieldELBO(),
      () => new ppl.TraceGraphELBO(),
      () => new ppl.RenyiELBO({ alpha: 0.5, numParticles: 3 }),
      () => new ppl.TraceEnumELBO(),
    ];
    elbos.forEach((make, i) => {
      const a = loss(
        make(),
        guideWith(() => 0.7, true),
        5,
      );
      const b = loss(make(), plain, 5);
      // (the vectorized particles run the guide in a plate, which expands the factor's Unit)
      expect(a - b, `${i}: ${make().constructor.name}`).toBeCloseTo(0.7, 4);
    });
    // a factor inside a guide plate: 3 log-weights of 0.1
    const plated = (): void => {
      ppl.sample('z', new D.Normal(0.5, 1));
      ppl.plate('N', 3, () => ppl.factor('f', 0.1, { hasRsample: true }));
    };
    expect(loss(new ppl.TraceELBO(), plated, 6) - loss(new ppl.TraceELBO(), plain, 6)).toBeCloseTo(
      0.3,
      4,
    );
    // TraceELBO's value: log q(z) + 0.7 - log p(z) at the guide's draw
    setSeed(9);
    const tr = ppl.trace(plain).getTrace();
    const z = tr.value('z').dataSync()[0] as number;
    tr.dispose();
    expect(
      loss(
        new ppl.TraceELBO(),
        guideWith(() => 0.7, true),
        9,
      ),
    ).toBeCloseTo(normalRef.logpdf(z, 0.5, 1) + 0.7 - normalRef.logpdf(z, 0, 1), 4);
  });

  it('a reparameterized guide factor is differentiated directly: d loss / d theta = 3', () => {
    const guide = guideWith(() => tf.mul(ppl.param('theta', 0.2), 3), true);
    const svi = new ppl.SVI(model, guide, tf.train.sgd(0.1), new ppl.TraceELBO());
    svi.step();
    // z does not depend on theta: one SGD step moves theta by -0.1 * 3
    expect(ppl.getParamStore().value('theta')).toBeAllclose(0.2 - 0.3, { atol: 1e-6 });
  });

  it('hasRsample is required in a guide; false is refused where no score-function term exists', () => {
    expect(() =>
      loss(
        new ppl.TraceELBO(),
        guideWith(() => 0.7, undefined),
        1,
      ),
    ).toThrow(/TraceELBO: factor 'jac' in the guide needs hasRsample/);
    // with hasRsample false TraceELBO counts the value (detached) ...
    expect(
      loss(
        new ppl.TraceELBO(),
        guideWith(() => 0.7, false),
        2,
      ) - loss(new ppl.TraceELBO(), plain, 2),
    ).toBeCloseTo(0.7, 4);
    // ... which the ELBOs without a score-function term for it refuse
    for (const e of [new ppl.TraceGraphELBO(), new ppl.RenyiELBO(), new ppl.TraceMeanFieldELBO()]) {
      expect(() =>
        loss(
          e,
          guideWith(() => 0.7, false),
          3,
        ),
      ).toThrow(/factor 'jac' in the guide has hasRsample false/);
    }
    expect(() =>
      ppl.trace(() => ppl.factor('f', 1, { has_rsample: true } as ppl.FactorOptions)).getTrace(),
    ).toThrow(/has_rsample: not an option of factor\('f'\)/);
  });
});
