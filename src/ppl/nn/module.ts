/**
 * Lifting a network's weights to random variables (Pyro's `random_module` and `PyroModule`).
 *
 * Every weight with a prior becomes a sample site; the network is then evaluated with the
 * sampled weights by a functional forward pass, so `log p(y | x, W)` is differentiable in the
 * guide parameters that produced `W`. Weights without a prior become `param` sites initialised at
 * the network's current values (and trained by SVI), as in Pyro.
 */
import * as tf from '@tensorflow/tfjs';
import type { Distribution } from '../../distributions/distribution.js';
import { ArgumentError } from '../../utils/errors.js';
import { getParamStore } from '../param_store.js';
import { param, sample } from '../runtime.js';
import {
  checkFunctionalForm,
  forwardWith,
  namedWeights,
  type NamedWeight,
  type SequentialNet,
} from './functional.js';

/** A prior for one weight: a distribution, or a factory given the weight's shape. */
export type WeightPrior = Distribution | ((shape: number[], key: string) => Distribution);

/**
 * Priors by weight key (`fc1.kernel`, `fc1.bias`, ...), or one function for every weight
 * (returning undefined leaves that weight deterministic).
 */
export type Priors =
  Record<string, WeightPrior> | ((key: string, shape: number[]) => Distribution | undefined);

function priorFor(priors: Priors, w: NamedWeight): Distribution | undefined {
  if (typeof priors === 'function') return priors(w.key, w.shape);
  const p = priors[w.key];
  if (p === undefined) return undefined;
  return typeof p === 'function' ? p(w.shape, w.key) : p;
}

function checkPriorKeys(net: SequentialNet, priors: Priors): NamedWeight[] {
  // a layer the functional pass cannot evaluate is refused here, not at the first model run
  checkFunctionalForm(net);
  const ws = namedWeights(net);
  if (typeof priors !== 'function') {
    const keys = new Set(ws.map((w) => w.key));
    for (const k of Object.keys(priors)) {
      if (!keys.has(k)) {
        throw new ArgumentError(
          'priors',
          `no weight '${k}' in the network; weights: ${[...keys].join(', ')}`,
        );
      }
    }
  }
  return ws;
}

/** Sample (or read as params) every weight of `net` under site names `prefix + sep + key`. */
function liftWeights(
  ws: NamedWeight[],
  priors: Priors,
  prefix: string,
  sep: string,
): Map<string, tf.Tensor> {
  const values = new Map<string, tf.Tensor>();
  for (const w of ws) {
    const site = `${prefix}${sep}${w.key}`;
    const prior = priorFor(priors, w);
    if (prior === undefined) {
      values.set(
        w.key,
        param(site, () => w.variable.read().clone()),
      );
      continue;
    }
    const shape = [...prior.batchShape, ...prior.eventShape];
    if (shape.length !== w.shape.length || shape.some((d, i) => d !== w.shape[i])) {
      throw new ArgumentError(
        `priors['${w.key}']`,
        `distribution shape [${shape}] differs from the weight shape [${w.shape}]; ` +
          'give a factory (shape) => Distribution',
      );
    }
    values.set(w.key, sample(site, prior));
  }
  return values;
}

/** A network with sampled weights: apply it to inputs. */
export type LiftedNetwork = (x: tf.Tensor) => tf.Tensor;

/**
 * Pyro's `random_module(name, net, priors)`: returns a function that, each time it is called,
 * samples one set of weights (sites `name$$$key`) and returns the network with those weights.
 * Called in a guide with guide distributions, the same site names make it the guide.
 *
 * @example
 * ```ts
 * const lifted = randomModule('module', net, {
 *   'fc1.kernel': new Normal(tf.zeros([784, 1024]), tf.ones([784, 1024])), ...
 * })();
 * sample('obs', new Categorical({ logits: lifted(x) }), { obs: y });
 * ```
 */
export function randomModule(
  name: string,
  net: SequentialNet,
  priors: Priors,
): () => LiftedNetwork {
  const ws = checkPriorKeys(net, priors);
  return () => {
    const values = liftWeights(ws, priors, name, '$$$');
    return (x: tf.Tensor) => forwardWith(net, (k) => values.get(k), x);
  };
}

/**
 * A network whose weights carry priors in place (after Pyro's `PyroModule` with `PyroSample`):
 * each `forward(x)` inside a model samples the weights as sites `name.key` and evaluates the
 * network with them. Pair it with an autoguide (`AutoNormal`) or a hand-written guide sampling the
 * same site names.
 *
 * @example
 * ```ts
 * const bnn = bayesianModule(net, (key, shape) => new Normal(tf.zeros(shape), tf.ones(shape)));
 * const model = (x: tf.Tensor, y?: tf.Tensor) =>
 *   sample('obs', new Categorical({ logits: bnn.forward(x) }), { obs: y });
 * ```
 */
export class BayesianModule {
  private readonly ws: NamedWeight[];
  constructor(
    readonly net: SequentialNet,
    readonly priors: Priors,
    readonly name = 'net',
  ) {
    this.ws = checkPriorKeys(net, priors);
  }
  /** The weight keys (`fc1.kernel`, ...). */
  keys(): string[] {
    return this.ws.map((w) => w.key);
  }
  /** Site name of a weight. */
  siteName(key: string): string {
    return `${this.name}.${key}`;
  }
  /** Sample one set of weights (as sites) and return them by key. */
  sampleWeights(): Map<string, tf.Tensor> {
    return liftWeights(this.ws, this.priors, this.name, '.');
  }
  /** Sample the weights and evaluate the network on `x`. */
  forward(x: tf.Tensor): tf.Tensor {
    const values = this.sampleWeights();
    return forwardWith(this.net, (k) => values.get(k), x);
  }
}

/** Declare priors on `net`'s weights in place; see {@link BayesianModule}. */
export function bayesianModule(net: SequentialNet, priors: Priors, name = 'net'): BayesianModule {
  return new BayesianModule(net, priors, name);
}

/**
 * Pyro's `pyro.module(name, net)`: register the network's own weights as real-valued parameters
 * `name$$$key` (the site names of {@link randomModule}) and return the network evaluated with
 * them. Each call emits one param site per weight, so `trace` and `SVI` see them and SVI trains
 * the network **in place** (its `tf.Variable`s are the parameters; `net.predict` afterwards uses
 * the fitted weights), unlike `randomModule(name, net, {})`, which copies them:
 *
 * $$\theta_{\text{net}} \equiv \text{param}(\texttt{name\$\$\$key}) \quad\text{for every weight key}$$
 *
 * `block(fn, {hide: [...]})` on these sites freezes those weights, as in Pyro. A real-valued
 * param of the same name and shape already in the store (a loaded store) is written into the
 * network's weight, which the store then adopts, as Pyro's `pyro.module` takes the store's values.
 *
 * @param name the module's name (the prefix of its param sites).
 * @param net a tfjs sequential network of Dense / channels-last Conv2D layers (the functional
 *   forms {@link randomModule} evaluates).
 * @returns the network as a function of its input, reading the registered parameters.
 * @throws ArgumentError naming `name` or `net` (a weighted layer without a functional form).
 * @example
 * ```ts
 * const guide = (x: tf.Tensor) => {
 *   const encoder = ppl.pyroModule('encoder', encoderNet); // trained by SVI in place
 *   const h = encoder(x);
 *   ppl.sample('z', new Normal(h, 1).toEvent(1));
 * };
 * ```
 */
export function pyroModule(name: string, net: SequentialNet): LiftedNetwork {
  if (typeof name !== 'string' || name.length === 0) {
    throw new ArgumentError('name', `pyroModule: expected a non-empty string, got ${String(name)}`);
  }
  const ws = checkPriorKeys(net, {});
  const store = getParamStore();
  const values = new Map<string, tf.Tensor>();
  for (const w of ws) {
    const site = `${name}$$$${w.key}`;
    const v = w.variable.read() as tf.Variable;
    if (!store.has(site)) store.adopt(site, v);
    else if (store.unconstrained(site) !== v && store.constraintOf(site).kind === 'real') {
      // a value the store already holds (loaded, or set): the network takes it, as Pyro's
      // `pyro.module` sets the module's parameters from the store, and the store adopts it
      const cur = store.value(site);
      const fits = cur.shape.join() === v.shape.join();
      if (fits) v.assign(cur);
      cur.dispose();
      if (fits) store.adopt(site, v);
    }
    values.set(w.key, param(site));
  }
  return (x: tf.Tensor) => forwardWith(net, (k) => values.get(k), x);
}
