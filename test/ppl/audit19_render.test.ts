/**
 * Audit 19, Pyro's `render_model` / `get_model_relations` as a user: sites named by numbers (a
 * loop's `String(i)`) keep the model's execution order in the relations, the DOT nodes and the
 * distribution legend (a JavaScript object puts integer-like keys first); names such as
 * `constructor` are ordinary sites in merged runs.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';

/** The node statements' ids of a DOT text, in order (quotes removed). */
function nodeOrder(dot: string): string[] {
  return dot
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => / \[label=/.test(l) && !l.startsWith('distribution_description_node'))
    .map((l) => l.slice(0, l.indexOf(' [')).replace(/^"|"$/g, ''));
}

describe('renderModel / getModelRelations: execution order (audit 19)', () => {
  // a chain drawn as 10 -> 2 -> 1 -> x (a loop counting down, names String(i))
  const chain = (): void => {
    let prev = ppl.sample('10', new D.Normal(0, 1));
    for (const name of ['2', '1', 'x']) prev = ppl.sample(name, new D.Normal(prev, 1));
  };

  it('relations list the sites in execution order, numbers included', () => {
    const r = ppl.getModelRelations(chain);
    expect(r.sites).toEqual(['10', '2', '1', 'x']);
    expect(r.sampleSample).toEqual({ '10': [], '2': ['10'], '1': ['2'], x: ['1'] });
    const merged = ppl.mergeModelRelations([r, ppl.getModelRelations(chain)]);
    expect(merged.sites).toEqual(['10', '2', '1', 'x']);
  });

  it('the DOT nodes, edges and legend follow the model (before: 1, 2, 10 first)', () => {
    const dot = ppl.renderModel(chain, [], { renderDistributions: true });
    expect(nodeOrder(dot)).toEqual(['10', '2', '1', 'x']);
    const edges = dot
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.includes(' -> '));
    expect(edges).toEqual(['10 -> 2', '2 -> 1', '1 -> x']);
    const legend = dot.match(/distribution_description_node \[label="(.*)" shape/)![1]!;
    expect(legend.split('\\l').filter((l) => l !== '')).toEqual([
      '10 ~ Normal',
      '2 ~ Normal',
      '1 ~ Normal',
      'x ~ Normal',
    ]);
    // each site and edge exactly once
    expect(new Set(nodeOrder(dot)).size).toBe(4);
    expect(new Set(edges).size).toBe(3);
  });

  it('merged runs: a site named like an Object property is observed only where it is', () => {
    const y = tf.scalar(1);
    const model = (withC: boolean): void => {
      const a = ppl.sample('a', new D.Normal(0, 1));
      if (withC) ppl.sample('constructor', new D.Normal(a, 1), { obs: y });
      ppl.sample('3', new D.Normal(a, 1));
    };
    const merged = ppl.mergeModelRelations([
      ppl.getModelRelations(model, [true]),
      ppl.getModelRelations(model, [false]),
    ]);
    // observed in every run where it appears (before: 'toString'-like names were taken as present
    // in every run through the prototype chain, and numbers were listed first)
    expect(merged.observed).toEqual(['constructor']);
    expect(merged.maybeObserved).toEqual([]);
    expect(merged.sites).toEqual(['a', 'constructor', '3']);
    y.dispose();
  });
});

describe('renderModel of GP models (audit 19)', () => {
  it("the GP sites' distributions are named as Pyro's (MultivariateNormal, not an internal class)", () => {
    ppl.clearParamStore();
    const X = tf.tensor2d([[0], [1], [2], [3]]);
    const y = tf.tensor1d([0, 1, 0, 1]);
    const k = new ppl.gp.kernels.RBF({ inputDim: 1, name: 'k' });
    k.setPrior('lengthscale', new D.LogNormal(0, 1));
    const gpr = new ppl.gp.models.GPRegression(X, y, k, { name: 'gpr' });
    const sgpr = new ppl.gp.models.SparseGPRegression(X, y, k, X.slice([0, 0], [2, 1]), {
      name: 'sgpr',
      approx: 'DTC',
    });
    const r = ppl.getModelRelations(gpr.model);
    expect(r.sampleDist).toEqual({ 'k.lengthscale': 'LogNormal', 'gpr.y': 'MultivariateNormal' });
    expect(r.sampleSample['gpr.y']).toEqual(['k.lengthscale']);
    expect([...r.sampleParam['gpr.y']!].sort()).toEqual(['gpr.noise', 'k.variance']);
    const legend = ppl.renderModel(sgpr.model, [], { renderDistributions: true });
    expect(legend).toContain('sgpr.y ~ LowRankMultivariateNormal\\l');
    expect(legend).toContain('"k.lengthscale" -> "sgpr.y"');
    gpr.dispose();
    sgpr.dispose();
    tf.dispose([X, y]);
    ppl.clearParamStore();
  });
});
