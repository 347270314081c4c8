/**
 * Model inspection (Pyro's `pyro.infer.inspect`): `getDependencies`, `getModelRelations`,
 * `renderModel`. Dependencies are checked against Pyro's documented outputs (the examples of
 * `get_dependencies` and `get_model_relations`) and against sets derived by hand from the model
 * (moralization worked out in the comments); the DOT text is parsed line by line.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions as D, ppl, setSeed } from '../../src/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { nextSeed } from '../../src/utils/seed.js';
import { expectBadInput, expectNoLeak, thrown } from '../helpers.js';

type Deps = Record<string, Record<string, Set<string>>>;

/** Sets as sorted arrays, so that `toEqual` compares them. */
function plain(d: Deps): Record<string, Record<string, string[]>> {
  return Object.fromEntries(
    Object.entries(d).map(([k, v]) => [
      k,
      Object.fromEntries(Object.entries(v).map(([u, p]) => [u, [...p].sort()])),
    ]),
  );
}

/** The calls below make no tensors that outlive them. */
function noLeak<T>(f: () => T): T {
  let out: T | undefined;
  expectNoLeak(() => {
    out = f();
  });
  return out as T;
}

// ---------------------------------------------------------------------------------------------
// Pyro's docstring examples of get_dependencies
// ---------------------------------------------------------------------------------------------

describe('getDependencies: the examples of Pyro get_dependencies', () => {
  it('model_1: a latent and an observation', () => {
    const model = (): void => {
      const a = ppl.sample('a', new D.Normal(0, 1));
      ppl.sample('b', new D.Normal(a, 1), { obs: tf.scalar(0) });
    };
    const r = noLeak(() => ppl.getDependencies(model));
    expect(plain(r.priorDependencies)).toEqual({ a: { a: [] }, b: { a: [], b: [] } });
    expect(plain(r.posteriorDependencies)).toEqual({ a: { a: [], b: [] } });
  });

  it('model_2: moralization makes a and b dependent through the collider c', () => {
    const model = (): void => {
      const a = ppl.sample('a', new D.Normal(0, 1));
      const b = ppl.sample('b', new D.LogNormal(0, 1));
      const c = ppl.sample('c', new D.Normal(a, b));
      ppl.sample('d', new D.Normal(c, 1), { obs: tf.scalar(0) });
    };
    const r = noLeak(() => ppl.getDependencies(model));
    expect(plain(r.priorDependencies)).toEqual({
      a: { a: [] },
      b: { b: [] },
      c: { a: [], b: [], c: [] },
      d: { c: [], d: [] },
    });
    expect(plain(r.posteriorDependencies)).toEqual({
      a: { a: [], b: [], c: [] },
      b: { b: [], c: [] },
      c: { c: [], d: [] },
    });
  });

  it('model_3: members of a plate observed through their sum depend on each other', () => {
    const model = (): void => {
      const a = ppl.plate('p', 5, () => ppl.sample('a', new D.Normal(0, 1)));
      ppl.sample('b', new D.Normal(tf.sum(a), 1), { obs: tf.scalar(0) });
    };
    const r = noLeak(() => ppl.getDependencies(model));
    expect(plain(r.priorDependencies)).toEqual({ a: { a: [] }, b: { a: [], b: [] } });
    expect(plain(r.posteriorDependencies)).toEqual({ a: { a: ['p'], b: [] } });
  });
});

// ---------------------------------------------------------------------------------------------
// Hand-derived structures
// ---------------------------------------------------------------------------------------------

describe('getDependencies: hand-derived structures', () => {
  it('a chain a -> b -> c has only direct prior dependencies', () => {
    const model = (): void => {
      const a = ppl.sample('a', new D.Normal(0, 1));
      const b = ppl.sample('b', new D.Normal(tf.mul(a, 2), 1));
      ppl.sample('c', new D.Normal(tf.exp(b), 1));
    };
    const r = noLeak(() => ppl.getDependencies(model));
    expect(plain(r.priorDependencies)).toEqual({
      a: { a: [] },
      b: { a: [], b: [] },
      c: { b: [], c: [] },
    });
    // reversed; the only site with two latent parents is none (each has one): no moral edges
    expect(plain(r.posteriorDependencies)).toEqual({
      a: { a: [], b: [] },
      b: { b: [], c: [] },
      c: { c: [] },
    });
  });

  it('eight schools, centered: theta in plate J; y observed', () => {
    const sigma = tf.tensor1d([15, 10, 16, 11, 9, 11, 10, 18]);
    const y = tf.tensor1d([28, 8, -3, 7, -1, 1, 18, 12]);
    const model = (s: tf.Tensor, obs: tf.Tensor): void => {
      const mu = ppl.sample('mu', new D.Normal(0, 5));
      const tau = ppl.sample('tau', new D.HalfCauchy(5));
      ppl.plate('J', 8, () => {
        const theta = ppl.sample('theta', new D.Normal(mu, tau));
        ppl.sample('y', new D.Normal(theta, s), { obs });
      });
    };
    const r = noLeak(() => ppl.getDependencies(model, [sigma, y]));
    expect(plain(r.priorDependencies)).toEqual({
      mu: { mu: [] },
      tau: { tau: [] },
      theta: { mu: [], tau: [], theta: [] },
      y: { theta: [], y: [] },
    });
    // reversal: mu:{mu,theta} tau:{tau,theta} theta:{theta,y}; moral pair (mu, tau) of theta:
    // post[mu][tau] |= P(mu) & P(tau) - P(theta) = {}; (theta, theta) of y: J - J = {}
    expect(plain(r.posteriorDependencies)).toEqual({
      mu: { mu: [], theta: [], tau: [] },
      tau: { tau: [], theta: [] },
      theta: { theta: [], y: [] },
    });
    sigma.dispose();
    y.dispose();
  });

  it('eight schools, non-centered: the deterministic theta is elided', () => {
    const sigma = tf.tensor1d([15, 10, 16, 11, 9, 11, 10, 18]);
    const y = tf.tensor1d([28, 8, -3, 7, -1, 1, 18, 12]);
    const model = (s: tf.Tensor, obs: tf.Tensor): void => {
      const mu = ppl.sample('mu', new D.Normal(0, 5));
      const tau = ppl.sample('tau', new D.HalfCauchy(5));
      ppl.plate('J', 8, () => {
        const eta = ppl.sample('eta', new D.Normal(0, 1));
        const theta = ppl.deterministic('theta', tf.add(mu, tf.mul(tau, eta)));
        ppl.sample('y', new D.Normal(theta, s), { obs });
      });
    };
    const r = noLeak(() => ppl.getDependencies(model, [sigma, y]));
    expect(plain(r.priorDependencies)).toEqual({
      mu: { mu: [] },
      tau: { tau: [] },
      eta: { eta: [] },
      y: { mu: [], tau: [], eta: [], y: [] },
    });
    // y's latent parents mu, tau, eta are all married; P(eta) & P(eta) - P(y) = J - J = {}
    expect(plain(r.posteriorDependencies)).toEqual({
      mu: { mu: [], y: [], tau: [], eta: [] },
      tau: { tau: [], y: [], eta: [] },
      eta: { eta: [], y: [] },
    });
    // with the deterministic site kept, it is the node between them
    const rel = noLeak(() =>
      ppl.getModelRelations(model, [sigma, y], { includeDeterministic: true }),
    );
    expect(rel.sampleSample).toEqual({
      mu: [],
      tau: [],
      eta: [],
      theta: ['mu', 'tau', 'eta'],
      y: ['theta'],
    });
    expect(rel.deterministic).toEqual(['theta']);
    expect(rel.observed).toEqual(['y']);
    const elided = noLeak(() => ppl.getModelRelations(model, [sigma, y]));
    expect(elided.sampleSample).toEqual({ mu: [], tau: [], eta: [], y: ['mu', 'tau', 'eta'] });
    expect(elided.deterministic).toEqual([]);
    sigma.dispose();
    y.dispose();
  });

  it('a Delta sample site expanded by its plate is elided like a deterministic site', () => {
    const model = (): void => {
      const a = ppl.sample('a', new D.Normal(0, 1));
      ppl.plate('N', 3, () => {
        const d = ppl.sample('d', new ppl.Delta(tf.mul(a, 2)));
        ppl.sample('x', new D.Normal(d, 1), { obs: tf.zeros([3]) });
      });
    };
    const r = noLeak(() => ppl.getDependencies(model));
    expect(plain(r.priorDependencies)).toEqual({ a: { a: [] }, x: { a: [], x: [] } });
    const kept = noLeak(() => ppl.getModelRelations(model, [], { includeDeterministic: true }));
    expect(kept.sampleSample).toEqual({ a: [], d: ['a'], x: ['d'] });
    expect(kept.sampleDist.d).toBe('Delta');
  });

  it('a mixture with an enumerated assignment: the gather couples all of locs', () => {
    const x = tf.tensor1d([-1.2, 0.3, 2.5, 2.9]);
    const model = (data: tf.Tensor): void => {
      const w = ppl.sample('weights', new D.Dirichlet(tf.ones([3])));
      const locs = ppl.plate('K', 3, () => ppl.sample('locs', new D.Normal(0, 5)));
      ppl.plate('N', 4, () => {
        const z = ppl.sample('z', new D.Categorical({ probs: w }), {
          infer: { enumerate: 'parallel' },
        });
        ppl.sample('x', new D.Normal(tf.gather(locs, tf.cast(z, 'int32')), 1), { obs: data });
      });
    };
    const r = noLeak(() => ppl.getDependencies(model, [x]));
    expect(plain(r.priorDependencies)).toEqual({
      weights: { weights: [] },
      locs: { locs: [] },
      z: { weights: [], z: [] },
      x: { locs: [], z: [], x: [] },
    });
    // moral pairs of x (order x, z, locs, weights reversed): (locs, locs) gives
    // P(locs) & P(locs) - P(x) = {K}: each x depends on every member of locs
    expect(plain(r.posteriorDependencies)).toEqual({
      weights: { weights: [], z: [] },
      locs: { locs: ['K'], x: [], z: [] },
      z: { z: [], x: [] },
    });
  });

  it('observed sites are never upstream; a plate shared with the child is not a full dependency', () => {
    // x_i observed; z_i ~ N(x_i, 1) latent: x is not a parent in getDependencies
    const data = tf.tensor1d([1, 2, 3]);
    const model = (d: tf.Tensor): void => {
      const s = ppl.sample('s', new D.HalfNormal(1));
      ppl.plate('N', 3, () => {
        const x = ppl.sample('x', new D.Normal(0, s), { obs: d });
        const z = ppl.sample('z', new D.Normal(x, s));
        ppl.sample('w', new D.Normal(z, 1), { obs: tf.zeros([3]) });
      });
    };
    const r = noLeak(() => ppl.getDependencies(model, [data]));
    expect(plain(r.priorDependencies)).toEqual({
      s: { s: [] },
      x: { s: [], x: [] },
      z: { s: [], z: [] },
      w: { z: [], w: [] },
    });
    // relations keep the observed upstream
    const rel = noLeak(() => ppl.getModelRelations(model, [data]));
    expect(rel.sampleSample.z).toEqual(['s', 'x']);
    data.dispose();
  });
});

// ---------------------------------------------------------------------------------------------
// getModelRelations
// ---------------------------------------------------------------------------------------------

describe('getModelRelations', () => {
  it("Pyro's documented example: m, sd and obs in plate N", () => {
    const data = tf.tensor1d([0.5, -0.3, 1.2, 0.1]);
    const model = (d: tf.Tensor): void => {
      const m = ppl.sample('m', new D.Normal(0, 1));
      const sd = ppl.sample('sd', new D.LogNormal(m, 1));
      ppl.plate('N', d.shape[0], () => ppl.sample('obs', new D.Normal(m, sd), { obs: d }));
    };
    const r = noLeak(() => ppl.getModelRelations(model, [data]));
    expect(r.sampleSample).toEqual({ m: [], sd: ['m'], obs: ['m', 'sd'] });
    expect(r.sampleDist).toEqual({ m: 'Normal', sd: 'LogNormal', obs: 'Normal' });
    expect(r.plateSample).toEqual({ N: ['obs'] });
    expect(r.observed).toEqual(['obs']);
    expect(r.plateSize).toEqual({ N: 4 });
    expect(r.samplePlates).toEqual({ m: [], sd: [], obs: ['N'] });
    data.dispose();
  });

  it('params: which params each site was computed from, with their constraints', () => {
    ppl.clearParamStore();
    const model = (): void => {
      const loc = ppl.param('loc', 0.5);
      const scale = ppl.param('scale', 1, { constraint: ppl.constraints.positive });
      const a = ppl.sample('a', new D.Normal(loc, 1));
      ppl.sample('b', new D.Normal(a, scale), { obs: tf.scalar(1) });
    };
    ppl.getModelRelations(model); // creates the params
    const r = noLeak(() => ppl.getModelRelations(model));
    expect(r.sampleParam).toEqual({ a: ['loc'], b: ['scale'] });
    expect(r.sampleSample).toEqual({ a: [], b: ['a'] });
    expect(r.paramConstraint).toEqual({
      loc: 'real',
      scale: ppl.constraints.positive.name,
    });
    ppl.clearParamStore();
  });

  it('distribution names drop expand, toEvent and mask', () => {
    const model = (): void => {
      ppl.sample('v', new D.Normal(tf.zeros([3]), 1).toEvent(1));
      ppl.plate('P', 2, () => ppl.sample('u', new D.Gamma(2, 1).mask(true)));
    };
    const r = noLeak(() => ppl.getModelRelations(model));
    expect(r.sampleDist).toEqual({ v: 'Normal', u: 'Gamma' });
  });

  it('a subsampled plate: no subsample site, the full size', () => {
    const data = tf.range(0, 10);
    const model = (d: tf.Tensor): void => {
      const m = ppl.sample('m', new D.Normal(0, 1));
      ppl.plate('N', 10, { subsampleSize: 4 }, (idx) =>
        ppl.sample('obs', new D.Normal(m, 1), { obs: tf.gather(d, idx) }),
      );
    };
    const r = noLeak(() => ppl.getModelRelations(model, [data]));
    expect(Object.keys(r.sampleSample)).toEqual(['m', 'obs']);
    expect(r.plateSize).toEqual({ N: 10 });
    data.dispose();
  });

  it('obsMask: the observed and unobserved parts are sites, the combined value is elided', () => {
    const y = tf.tensor1d([1, 2, 3]);
    const m = tf.tensor1d([true, false, true], 'bool');
    const model = (): void => {
      const mu = ppl.sample('mu', new D.Normal(0, 1));
      const v = ppl.plate('N', 3, () =>
        ppl.sample('y', new D.Normal(mu, 1), { obs: y, obsMask: m }),
      );
      ppl.sample('t', new D.Normal(tf.sum(v), 1), { obs: tf.scalar(0) });
    };
    const r = noLeak(() => ppl.getModelRelations(model));
    expect(r.sampleSample).toEqual({
      mu: [],
      y_observed: ['mu'],
      y_unobserved: ['mu'],
      t: ['y_observed', 'y_unobserved'],
    });
    expect(r.observed).toEqual(['y_observed', 't']);
    y.dispose();
    m.dispose();
  });

  it('families: a dependency is seen through every parameter of common distributions', () => {
    const cases: [string, (a: tf.Tensor) => D.Distribution][] = [
      ['Normal loc', (a) => new D.Normal(a, 1)],
      ['Normal scale', (a) => new D.Normal(0, tf.exp(a))],
      ['Gamma concentration', (a) => new D.Gamma(tf.exp(a), 1)],
      ['Gamma rate', (a) => new D.Gamma(2, tf.exp(a))],
      ['Beta', (a) => new D.Beta(tf.exp(a), 2)],
      ['StudentT df', (a) => new D.StudentT(tf.add(tf.exp(a), 1), 0, 1)],
      ['Bernoulli logits', (a) => new D.Bernoulli({ logits: a })],
      ['Poisson', (a) => new D.Poisson(tf.exp(a))],
      ['Exponential', (a) => new D.Exponential(tf.exp(a))],
      ['LogNormal', (a) => new D.LogNormal(a, 1)],
      ['Categorical', (a) => new D.Categorical({ logits: tf.stack([a, tf.neg(a)]) })],
      ['Dirichlet', (a) => new D.Dirichlet(tf.stack([tf.exp(a), tf.scalar(1)]))],
      [
        'MultivariateNormal scaleTril',
        (a) =>
          new D.MultivariateNormal(tf.zeros([2]), {
            scaleTril: tf.mul(tf.eye(2), tf.exp(a)),
          }),
      ],
      ['Uniform high', (a) => new D.Uniform(-1, tf.add(tf.exp(a), 1))],
      ['HalfCauchy', (a) => new D.HalfCauchy(tf.exp(a))],
      ['VonMises', (a) => new D.VonMises(a, 1)],
      ['TruncatedNormal', (a) => new D.TruncatedNormal(a, 1, -2, 2)],
      [
        'MixtureSameFamily components',
        (a) =>
          new D.MixtureSameFamily(
            new D.Categorical({ logits: tf.zeros([2]) }),
            new D.Normal(tf.stack([a, tf.scalar(0)]), 1),
          ),
      ],
      ['ZeroInflatedPoisson gate', (a) => new D.ZeroInflatedPoisson(2, { gateLogits: a })],
      [
        'LowRankMultivariateNormal',
        (a) => new D.LowRankMultivariateNormal(tf.stack([a, a]), tf.ones([2, 1]), tf.ones([2])),
      ],
      ['Wishart df', (a) => new D.Wishart(tf.add(tf.exp(a), 3), { scaleTril: tf.eye(2) })],
      ['OrderedLogistic', (a) => new D.OrderedLogistic(a, tf.tensor1d([-1, 1]))],
    ];
    for (const [what, make] of cases) {
      const model = (): void => {
        const a = ppl.sample('a', new D.Normal(0, 0.1));
        ppl.sample('x', make(a));
      };
      const r = noLeak(() => ppl.getModelRelations(model));
      expect(r.sampleSample.x, what).toEqual(['a']);
    }
  });

  it('a factor is an observed site depending on what its log-weight was computed from', () => {
    const model = (): void => {
      const a = ppl.sample('a', new D.Normal(0, 1));
      ppl.factor('pen', tf.neg(tf.square(a)));
    };
    const r = noLeak(() => ppl.getModelRelations(model));
    expect(r.sampleSample).toEqual({ a: [], pen: ['a'] });
    expect(r.sampleDist.pen).toBe('Unit');
    expect(r.observed).toEqual(['pen']);
    const d = noLeak(() => ppl.getDependencies(model));
    expect(plain(d.posteriorDependencies)).toEqual({ a: { a: [], pen: [] } });
  });

  it('under the enumerate handler: the enumerated site is still one upstream node', () => {
    const model = (): void => {
      const z = ppl.sample('z', new D.Bernoulli({ probs: 0.3 }), {
        infer: { enumerate: 'parallel' },
      });
      ppl.sample('x', new D.Normal(tf.mul(z, 2), 1), { obs: tf.scalar(1.5) });
    };
    const r = noLeak(() => ppl.getModelRelations(ppl.enumerate(model, -1)));
    expect(r.sampleSample).toEqual({ z: [], x: ['z'] });
  });

  it('a Bayesian network lifted by randomModule: the likelihood depends on every weight site', () => {
    const net = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [4], units: 5, activation: 'relu', name: 'fc1' }),
        tf.layers.dense({ units: 3, name: 'out' }),
      ],
    });
    const ws = ppl.namedWeights(net);
    const x = tf.randomNormal([8, 4]);
    const y = tf.randomNormal([8, 3]);
    const model = (xs: tf.Tensor, ys: tf.Tensor): void => {
      const priors = Object.fromEntries(ws.map((w) => [w.key, new D.Normal(tf.zeros(w.shape), 1)]));
      const lifted = ppl.randomModule('module', net, priors)();
      ppl.plate('N', 8, { dim: -2 }, () =>
        ppl.sample('obs', new D.Normal(lifted(xs), 1), { obs: ys }),
      );
    };
    const r = noLeak(() => ppl.getModelRelations(model, [x, y]));
    const sites = ws.map((w) => `module$$$${w.key}`);
    expect(r.sampleSample).toEqual({
      ...Object.fromEntries(sites.map((s) => [s, []])),
      obs: sites,
    });
    net.dispose();
    x.dispose();
    y.dispose();
  });

  it('provenance is data flow: a value read to the host and back, or a constant, is no dependency', () => {
    const model = (): void => {
      const a = ppl.sample('a', new D.Normal(0, 1));
      const b = ppl.sample('b', new D.Normal(tf.scalar(a.dataSync()[0] as number), 1));
      ppl.sample('c', new D.Normal(tf.mul(b, 0), 1)); // 0 * b still flows from b
    };
    const r = noLeak(() => ppl.getModelRelations(model));
    expect(r.sampleSample).toEqual({ a: [], b: [], c: ['b'] });
  });
});

// ---------------------------------------------------------------------------------------------
// renderModel: DOT text parsed line by line
// ---------------------------------------------------------------------------------------------

interface ParsedDot {
  nodes: Map<string, Record<string, string>>;
  edges: string[];
  /** cluster id -> its label, its parent cluster ('' for the root) and its nodes. */
  clusters: Map<string, { label: string; parent: string; nodes: string[] }>;
}

const ID = String.raw`("(?:[^"\\]|\\.)*"|[A-Za-z0-9_.-]+)`;
const unquote = (s: string): string =>
  s.startsWith('"') ? s.slice(1, -1).replace(/\\(["\\])/g, '$1') : s;

function parseDot(dot: string): ParsedDot {
  const lines = dot.split('\n').map((l) => l.trim());
  expect(lines[0]).toBe('digraph {');
  const out: ParsedDot = { nodes: new Map(), edges: [], clusters: new Map() };
  const stack = [''];
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    let m: RegExpMatchArray | null;
    if ((m = line.match(new RegExp(`^subgraph ${ID} \\{$`))) !== null) {
      const id = unquote(m[1] as string);
      out.clusters.set(id, { label: '', parent: stack[stack.length - 1] as string, nodes: [] });
      stack.push(id);
    } else if (line === '}') {
      stack.pop();
    } else if ((m = line.match(new RegExp(`^label=${ID} labeljust=r labelloc=b$`))) !== null) {
      out.clusters.get(stack[stack.length - 1] as string)!.label = unquote(m[1] as string);
    } else if ((m = line.match(new RegExp(`^${ID} -> ${ID}$`))) !== null) {
      out.edges.push(`${unquote(m[1] as string)}->${unquote(m[2] as string)}`);
    } else if ((m = line.match(new RegExp(`^${ID} \\[(.*)\\]$`))) !== null) {
      const attrs: Record<string, string> = {};
      for (const a of (m[2] as string).matchAll(new RegExp(`(\\w+)=${ID}`, 'g'))) {
        attrs[a[1] as string] = unquote(a[2] as string);
      }
      const name = unquote(m[1] as string);
      out.nodes.set(name, attrs);
      const c = stack[stack.length - 1] as string;
      if (c !== '') out.clusters.get(c)!.nodes.push(name);
    } else {
      throw new Error(`unparsed DOT line: ${line}`);
    }
  }
  expect(stack).toEqual([]);
  return out;
}

describe('renderModel', () => {
  const sigma = [15, 10, 16, 11, 9, 11, 10, 18];
  const yData = [28, 8, -3, 7, -1, 1, 18, 12];
  const schools = (s: tf.Tensor, obs: tf.Tensor): void => {
    const mu = ppl.sample('mu', new D.Normal(0, 5));
    const tau = ppl.sample('tau', new D.HalfCauchy(5));
    ppl.plate('J', 8, () => {
      const eta = ppl.sample('eta', new D.Normal(0, 1));
      const theta = ppl.deterministic('theta', tf.add(mu, tf.mul(tau, eta)));
      ppl.sample('y', new D.Normal(theta, s), { obs });
    });
  };

  it('eight schools: nodes, observed fill, edges, the plate cluster with its size', () => {
    const s = tf.tensor1d(sigma);
    const y = tf.tensor1d(yData);
    const dot = noLeak(() => ppl.renderModel(schools, [s, y]));
    const g = parseDot(dot);
    expect([...g.nodes.keys()].sort()).toEqual(['eta', 'mu', 'tau', 'y']);
    expect(g.nodes.get('y')).toMatchObject({ fillcolor: 'gray', shape: 'ellipse', label: 'y' });
    expect(g.nodes.get('mu')).toMatchObject({ fillcolor: 'white', style: 'filled' });
    expect(g.edges.sort()).toEqual(['eta->y', 'mu->y', 'tau->y']);
    expect(g.clusters.get('cluster_J')).toEqual({
      label: 'J (8)',
      parent: '',
      nodes: ['eta', 'y'],
    });
    s.dispose();
    y.dispose();
  });

  it('renderDeterministic: theta is a dashed node between its parents and y', () => {
    const s = tf.tensor1d(sigma);
    const y = tf.tensor1d(yData);
    const g = parseDot(
      noLeak(() => ppl.renderModel(schools, [s, y], { renderDeterministic: true })),
    );
    expect(g.nodes.get('theta')).toMatchObject({ style: 'filled,dashed', fillcolor: 'white' });
    expect(g.edges.sort()).toEqual(['eta->theta', 'mu->theta', 'tau->theta', 'theta->y']);
    expect(g.clusters.get('cluster_J')!.nodes).toEqual(['eta', 'theta', 'y']);
    s.dispose();
    y.dispose();
  });

  it('renderDistributions and renderParams: the legend, plain param nodes and their edges', () => {
    ppl.clearParamStore();
    const model = (): void => {
      const scale = ppl.param('q scale', 1, { constraint: ppl.constraints.positive });
      const a = ppl.sample('a', new D.Normal(0, scale));
      ppl.plate('N', 2, () => ppl.sample('b', new D.Poisson(tf.exp(a)), { obs: tf.ones([2]) }));
    };
    ppl.renderModel(model);
    const g = parseDot(
      noLeak(() => ppl.renderModel(model, [], { renderDistributions: true, renderParams: true })),
    );
    expect(g.nodes.get('q scale')).toMatchObject({ shape: 'plain' });
    expect(g.edges.sort()).toEqual(['a->b', 'q scale->a']);
    const legend = g.nodes.get('distribution_description_node')!;
    expect(legend.shape).toBe('plaintext');
    expect(legend.label!.split('\\l').filter((l) => l !== '')).toEqual([
      'a ~ Normal',
      'b ~ Poisson',
      `q scale : ${ppl.constraints.positive.name}`,
    ]);
    // without the options: no params, no legend
    const bare = parseDot(ppl.renderModel(model));
    expect([...bare.nodes.keys()].sort()).toEqual(['a', 'b']);
    ppl.clearParamStore();
  });

  it('nested plates are nested clusters; overlapping plates get a clone cluster', () => {
    const model = (): void => {
      const g = ppl.plate('G', 2, { dim: -2 }, () => ppl.sample('g', new D.Normal(0, 1)));
      ppl.plate('G', 2, { dim: -2 }, () =>
        ppl.plate('I', 3, { dim: -1 }, () => ppl.sample('x', new D.Normal(g, 1))),
      );
      ppl.plate('I', 3, { dim: -1 }, () => ppl.sample('h', new D.Normal(0, 1)));
    };
    const g = parseDot(noLeak(() => ppl.renderModel(model)));
    expect(g.clusters.get('cluster_G')).toEqual({ label: 'G (2)', parent: '', nodes: ['g'] });
    expect(g.clusters.get('cluster_I')).toEqual({
      label: 'I (3)',
      parent: 'cluster_G',
      nodes: ['x'],
    });
    expect(g.clusters.get('cluster_I__CLONE')).toEqual({
      label: 'I (3)',
      parent: '',
      nodes: ['h'],
    });
    expect(g.edges).toEqual(['g->x']);
  });

  it('argSets (semi-supervised): runs merged, a site observed in some runs is half gray', () => {
    const x = tf.tensor1d([0.5, -1, 2]);
    const labels = tf.tensor1d([1, 0, 1]);
    const model = (xs: tf.Tensor, ys: tf.Tensor | null, extra: boolean): void => {
      const w = ppl.sample('w', new D.Normal(0, 1));
      const b = ppl.sample('b', new D.Normal(0, 1));
      ppl.plate('N', 3, () =>
        ppl.sample(
          'y',
          new D.Bernoulli({ logits: extra ? tf.add(tf.mul(w, xs), b) : tf.mul(w, xs) }),
          ys === null ? {} : { obs: ys },
        ),
      );
      if (extra) ppl.sample('c', new D.Normal(b, 1), { obs: tf.scalar(0) });
    };
    const g = parseDot(
      noLeak(() => ppl.renderModel(model, [x, labels, false], { argSets: [[x, null, true]] })),
    );
    expect(g.nodes.get('y')!.fillcolor).toBe('gray:white');
    expect(g.nodes.get('c')!.fillcolor).toBe('gray'); // observed wherever it appears
    expect(g.nodes.get('w')!.fillcolor).toBe('white');
    expect(g.edges.sort()).toEqual(['b->c', 'b->y', 'w->y']); // the union of both runs' edges
    const merged = ppl.mergeModelRelations([
      ppl.getModelRelations(model, [x, labels, false]),
      ppl.getModelRelations(model, [x, null, true]),
    ]);
    expect(merged.observed).toEqual(['c']);
    expect(merged.maybeObserved).toEqual(['y']);
    expect(merged.sampleSample).toEqual({ w: [], b: [], y: ['w', 'b'], c: ['b'] });
    x.dispose();
    labels.dispose();
  });

  it('names that are not plain identifiers are quoted', () => {
    const model = (): void => {
      const a = ppl.sample('a"b', new D.Normal(0, 1));
      ppl.sample('node', new D.Normal(a, 1));
    };
    const dot = ppl.renderModel(model);
    expect(dot).toContain('"a\\"b" -> "node"');
    expect(parseDot(dot).edges).toEqual(['a"b->node']);
  });

  it('renderModelSvg: a valid SVG document with the node labels', async () => {
    const s = tf.tensor1d(sigma);
    const y = tf.tensor1d(yData);
    const before = tf.memory().numTensors;
    const svg = await ppl.renderModelSvg(schools, [s, y], { renderDistributions: true });
    expect(tf.memory().numTensors).toBe(before);
    expect(svg).toMatch(/<svg[\s\S]*<\/svg>\s*$/);
    for (const n of ['mu', 'tau', 'eta', 'y']) expect(svg).toContain(`<title>${n}</title>`);
    expect(svg).toContain('<title>cluster_J</title>');
    expect(svg).toContain('>J (8)</text>');
    expect(svg).toContain('<title>mu&#45;&gt;y</title>');
    s.dispose();
    y.dispose();
  }, 30_000);
});

// ---------------------------------------------------------------------------------------------
// Bad input, errors, restored state
// ---------------------------------------------------------------------------------------------

describe('inspection: bad input and restored state', () => {
  const ok = (): void => {
    ppl.sample('a', new D.Normal(0, 1));
  };
  const cases = [
    {
      call: 'a model that is not a function',
      run: () => ppl.getDependencies(3 as never),
      arg: 'model',
    },
    {
      call: 'args that are not an array',
      run: () => ppl.getModelRelations(ok, 'x' as never),
      arg: 'args',
    },
    {
      call: "Pyro's option name",
      run: () => ppl.renderModel(ok, [], { render_distributions: true } as never),
      arg: 'render_distributions',
    },
    {
      call: 'filename in the browser-safe renderModel',
      run: () => ppl.renderModel(ok, [], { filename: 'm.svg' } as never),
      arg: 'filename',
      message: /renderModelToFile/,
    },
    {
      call: 'a non-boolean option',
      run: () => ppl.renderModel(ok, [], { renderParams: 1 as never }),
      arg: 'renderParams',
    },
    {
      call: 'includeDeterministic not a boolean',
      run: () => ppl.getModelRelations(ok, [], { includeDeterministic: 'yes' as never }),
      arg: 'includeDeterministic',
    },
    {
      call: 'argSets not an array of argument arrays',
      run: () => ppl.renderModel(ok, [], { argSets: [3] as never }),
      arg: 'argSets',
    },
    { call: 'no relations to merge', run: () => ppl.mergeModelRelations([]), arg: 'runs' },
    { call: 'bad DOT text', run: () => ppl.dotToSvg('digraph { a -> }'), arg: 'dot' },
    { call: 'empty DOT text', run: () => ppl.dotToSvg(''), arg: 'dot' },
  ];
  for (const c of cases) it(c.call, () => expectBadInput(c), 30_000);

  it('a model that throws: the error names the last site reached; state is restored', () => {
    const model = (): void => {
      const a = ppl.sample('a', new D.Normal(0, 1));
      ppl.sample('b', new D.Normal(a, 1));
      throw new Error('boom');
    };
    setSeed(7);
    const expected = nextSeed();
    setSeed(7);
    const state = (
      tf.engine() as unknown as { state: { gradientDepth: number; activeTape: unknown } }
    ).state;
    const tapeBefore = state.activeTape;
    const before = tf.memory().numTensors;
    expect(() => ppl.getDependencies(model)).toThrow(
      /^getDependencies: the model threw after site 'b': boom$/,
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(ppl.HANDLER_STACK.length).toBe(0);
    expect(ppl.isValidationEnabled()).toBe(true);
    expect(state.gradientDepth).toBe(0);
    expect(state.activeTape).toBe(tapeBefore);
    expect(nextSeed()).toBe(expected); // the run did not advance the seed stream
  });

  it('an ArgumentError from a site passes through naming the site', () => {
    const model = (): void => {
      ppl.sample('a', new D.Normal(0, 1), { obs: tf.tensor1d([1, 2]), obsMask: [1, 0] as never });
    };
    expect(() => ppl.getModelRelations(model)).toThrow(
      /^obsMask: sample\('a'\).*\(getModelRelations: the model threw before its first site\)$/s,
    );
    // a distribution refusing its parameters at site b: its ArgumentError, and where the model was
    const bad = (): void => {
      const a = ppl.sample('a', new D.Normal(0, 1));
      ppl.sample('b', new D.Normal(a, tf.scalar(-1)));
    };
    const before = tf.memory().numTensors;
    const err = thrown(() => ppl.getDependencies(bad));
    expect(tf.memory().numTensors).toBe(before);
    expect(err).toBeInstanceOf(ArgumentError);
    expect((err as ArgumentError).argument).toBe('scale');
    expect((err as Error).message).toMatch(/\(getDependencies: the model threw after site 'a'\)$/);
  });

  it('inside a gradient computation: the outer tape is untouched', () => {
    const model = (): void => {
      const a = ppl.sample('a', new D.Normal(0, 1));
      ppl.sample('b', new D.Normal(a, 1));
    };
    const x = tf.scalar(3);
    const g = tf.grad((v: tf.Tensor) => {
      const r = ppl.getModelRelations(model);
      expect(r.sampleSample.b).toEqual(['a']);
      return tf.mul(v, v);
    })(x);
    expect(g.dataSync()[0]).toBeCloseTo(6, 6);
    g.dispose();
    x.dispose();
  });
});
