/**
 * Pyro's `pyro.contrib.gp.parameterized.Parameterized`: the base of every GP kernel, likelihood
 * and model. A module owns named hyperparameters; each one lives in the global parameter store
 * under `<module name>.<parameter>` as an unconstrained `tf.Variable` `u` with the constrained value
 * `T(u)` (`positive`: `softplus(u)`), so SVI/optimizers move `u` freely. A hyperparameter may
 * be given a prior (Pyro's `PyroSample`): in `'model'` mode it is then a sample site
 * `θ ~ p(θ)` (so MCMC or an autoguide infers it), in `'guide'` mode a MAP point mass
 * `θ ~ δ(θ̂)` with `θ̂` the parameter `<name>_map` (Pyro's default `autoguide(name, Delta)`).
 */
import * as tf from '@tensorflow/tfjs';
import { checkScalar, hostValue, type ParamValue } from './param_value.js';
import { HANDLER_STACK, param, sample } from '../../runtime.js';
import { getParamStore } from '../../param_store.js';
import { Delta } from '../../../distributions/delta.js';
import { Distribution } from '../../../distributions/distribution.js';
import { positive, type Constraint } from '../../constraints.js';
import { bijectTo } from '../../../distributions/transform_to.js';
import { TransformedDistribution } from '../../../distributions/transformed.js';
import { Normal } from '../../../distributions/normal.js';
import { ArgumentError } from '../../../utils/errors.js';

/** Whether hyperparameters with priors are drawn from their prior or from their (MAP) guide. */
export type Mode = 'model' | 'guide';

/**
 * The guide of a hyperparameter with a prior (Pyro's `autoguide(name, dist.Delta | dist.Normal)`):
 * `'Delta'` a MAP point mass `δ(T(u))`, `'Normal'` `T(N(loc, scale))` with `T = bijectTo(supp p)`.
 */
export type HyperGuide = 'Delta' | 'Normal';

interface HyperParam {
  data: Float32Array;
  shape: number[];
  constraint: Constraint;
  prior: Distribution | undefined;
  guide: HyperGuide;
}

/**
 * The base of GP kernels, likelihoods and models (Pyro's `Parameterized`): named hyperparameters
 * in the global parameter store, optional priors on them, and a `'model'`/`'guide'` mode.
 *
 * A hyperparameter `θ` with constraint `C` is stored unconstrained, `θ = T_C(u)`. With a prior
 * `p(θ)` it is the sample site `<name>.<param>`: `θ ~ p(θ)` in model mode, `θ ~ δ(θ̂)` in guide
 * mode with `θ̂ = T_{supp p}(u_map)` the parameter `<name>.<param>_map` (MAP estimation by SVI).
 */
export abstract class Parameterized {
  /** The module name: the prefix of its parameters and sites in the store and in traces. */
  readonly name: string;
  private readonly hyper = new Map<string, HyperParam>();
  private modeValue: Mode = 'model';
  private cache: Map<string, tf.Tensor> | null = null;

  protected constructor(name: string) {
    this.name = name;
  }

  /** The sub-modules (kernels of a combination, a model's kernel and likelihood). */
  protected children(): Parameterized[] {
    return [];
  }

  /**
   * Declare hyperparameter `pname` with initial (constrained) value `value`.
   * @throws ArgumentError naming `arg` when the value is not finite or not in `constraint`.
   */
  protected registerParam(
    pname: string,
    value: unknown,
    constraint: Constraint,
    arg: string = pname,
  ): void {
    const h = hostValue(value, arg, constraint);
    this.hyper.set(pname, { ...h, constraint, prior: undefined, guide: 'Delta' });
  }

  /**
   * Declare a positive scalar hyperparameter `σ > 0` from an option `value` (`fallback` when
   * undefined): {@link checkScalar} then `registerParam(pname, value, positive)`.
   * @throws ArgumentError naming `pname` when the value is not a positive finite scalar.
   */
  protected registerPositiveScalar(
    pname: string,
    value: ParamValue | undefined,
    fallback: number = 1,
  ): void {
    const v = value ?? fallback;
    checkScalar(v, pname);
    this.registerParam(pname, v, positive);
  }

  /** `<name>.<pname>`: the parameter's (and prior site's) name in the store and traces. */
  fullName(pname: string): string {
    return `${this.name}.${pname}`;
  }

  /** The names of this module's own hyperparameters, in declaration order. */
  paramNames(): string[] {
    return [...this.hyper.keys()];
  }

  /** The current mode (`'model'`: priors are sampled; `'guide'`: their MAP values are used). */
  get mode(): Mode {
    return this.modeValue;
  }

  /** Set the mode of this module and all its sub-modules (Pyro's `set_mode`). */
  setMode(mode: Mode): void {
    if (mode !== 'model' && mode !== 'guide') {
      throw new ArgumentError('mode', `expected 'model' or 'guide', got ${String(mode)}`);
    }
    for (const m of this.modules()) m.modeValue = mode;
  }

  private entry(pname: string): HyperParam {
    const h = this.hyper.get(pname);
    if (h === undefined) {
      throw new ArgumentError(
        'name',
        `${this.name} has no hyperparameter '${String(pname)}' (has: ${this.paramNames().join(', ')})`,
      );
    }
    return h;
  }

  /**
   * Give hyperparameter `pname` the prior `prior` (Pyro's `module.param = PyroSample(prior)`), or
   * remove it with `null`. The prior's shape (`batchShape ++ eventShape`) must equal the
   * parameter's (an ARD lengthscale `[D]` takes e.g. `new LogNormal(0, 1).expand([D])`); its
   * support must contain the current value (the MAP guide starts there). The prior stays the
   * caller's to dispose.
   * @throws ArgumentError naming `name` or `prior`.
   */
  setPrior(pname: string, prior: Distribution | null): void {
    const h = this.entry(pname);
    if (prior === null) {
      h.prior = undefined;
      return;
    }
    if (!(prior instanceof Distribution)) {
      throw new ArgumentError('prior', `expected a Distribution or null, got ${typeof prior}`);
    }
    const shape = [...prior.batchShape, ...prior.eventShape];
    if (shape.length !== h.shape.length || shape.some((d, i) => d !== h.shape[i])) {
      throw new ArgumentError(
        'prior',
        `${this.fullName(pname)} has shape [${h.shape.join(',')}], the prior [${shape.join(',')}] (use expand)`,
      );
    }
    const current = tf.tensor(h.data, h.shape, 'float32');
    try {
      hostValue(current, 'prior', prior.support); // the MAP guide starts at the current value
    } finally {
      current.dispose();
    }
    h.prior = prior;
  }

  /**
   * The guide of `pname`, which must have a prior (Pyro's `autoguide(name, dist_constructor)`):
   * `'Delta'` (default; MAP, the parameter `<name>.<param>_map`) or `'Normal'` (a normal in the
   * unconstrained space mapped by `bijectTo(supp p)`: parameters `<name>.<param>_loc`, starting
   * at the current value, and `<name>.<param>_scale`, starting at 0.01).
   * @throws ArgumentError naming `name` (no prior) or `guide`.
   */
  autoguide(pname: string, guide: HyperGuide): void {
    const h = this.entry(pname);
    if (guide !== 'Delta' && guide !== 'Normal') {
      throw new ArgumentError('guide', `expected 'Delta' or 'Normal', got ${String(guide)}`);
    }
    if (h.prior === undefined) {
      throw new ArgumentError('name', `${this.fullName(pname)} has no prior (setPrior first)`);
    }
    h.guide = guide;
  }

  /** The shape of hyperparameter `pname`. */
  paramShape(pname: string): number[] {
    return [...this.entry(pname).shape];
  }

  /** The prior of `pname`, or undefined. */
  priorOf(pname: string): Distribution | undefined {
    return this.entry(pname).prior;
  }

  /**
   * Set hyperparameter `pname` to the constrained value `value` (its initial value too; with a
   * prior, the MAP parameter as well). The shape may change (e.g. a scalar lengthscale to ARD).
   * @throws ArgumentError naming `pname` when the value is outside the parameter's constraint.
   */
  set(pname: string, value: ParamValue): void {
    const h = this.entry(pname);
    const v = hostValue(value, pname, h.constraint);
    if (h.prior !== undefined) hostValue(value, pname, h.prior.support);
    h.data = v.data;
    h.shape = v.shape;
    const store = getParamStore();
    const init = tf.tensor(v.data, v.shape, 'float32');
    try {
      store.set(this.fullName(pname), init, h.constraint);
      if (h.prior !== undefined && store.has(`${this.fullName(pname)}_map`)) {
        store.set(`${this.fullName(pname)}_map`, init, h.prior.support);
      }
    } finally {
      init.dispose();
    }
  }

  /**
   * A new tensor with the current value of `pname`: the stored parameter, or with a prior in
   * guide mode its MAP value (in model mode, a draw from the prior).
   */
  value(pname: string): tf.Tensor {
    this.entry(pname);
    return tf.tidy(() => this.load(pname).clone());
  }

  /** Load one hyperparameter through the ppl primitives (a param or a sample site). */
  private load(pname: string): tf.Tensor {
    const h = this.entry(pname);
    const full = this.fullName(pname);
    const init = (): tf.Tensor => tf.tensor(h.data, h.shape, 'float32');
    if (h.prior === undefined) return param(full, init, { constraint: h.constraint });
    if (this.modeValue === 'model') return sample(full, h.prior);
    if (h.guide === 'Normal') {
      const bij = bijectTo(h.prior.support);
      const loc = param(`${full}_loc`, () => tf.tidy(() => bij.inverse(init())));
      const scale = param(`${full}_scale`, () => tf.fill(h.shape, 0.01), { constraint: positive });
      const g = new TransformedDistribution(new Normal(loc, scale), bij);
      const e = h.prior.eventShape.length;
      return sample(full, e > 0 ? g.toEvent(e) : g);
    }
    const map = param(`${full}_map`, init, { constraint: h.prior.support });
    return sample(full, new Delta(map, h.prior.eventShape.length));
  }

  /**
   * The value of hyperparameter `pname` for a computation: the one loaded by
   * {@link loadSamples} for the current run, else loaded now.
   * @internal
   */
  protected hp(pname: string): tf.Tensor {
    return this.cache?.get(pname) ?? this.load(pname);
  }

  /** This module and its sub-modules, each once (depth first). */
  modules(): Parameterized[] {
    const out: Parameterized[] = [];
    const visit = (m: Parameterized): void => {
      if (out.includes(m)) return;
      out.push(m);
      for (const c of m.children()) visit(c);
    };
    visit(this);
    return out;
  }

  /**
   * Load every hyperparameter of this module and its sub-modules once, in the current mode, for
   * one run (Pyro's `_load_pyro_samples`): each prior site appears once in a trace however
   * often the kernel is evaluated. Paired with {@link clearSamples}.
   * @internal
   */
  loadSamples(): void {
    for (const m of this.modules()) {
      const cache = new Map<string, tf.Tensor>();
      for (const p of m.hyper.keys()) cache.set(p, m.load(p));
      m.cache = cache;
    }
  }

  /** Forget the values loaded by {@link loadSamples} (they belong to the run). @internal */
  clearSamples(): void {
    for (const m of this.modules()) m.cache = null;
  }

  /** Whether a run's values are loaded. @internal */
  protected get loaded(): boolean {
    return this.cache !== null;
  }

  /**
   * Run `fn` with the hyperparameters loaded for one run. Under effect handlers (a model traced
   * by SVI or MCMC) the values are loaded outside `fn`'s `tf.tidy`, so the trace keeps them;
   * with no handler everything runs in one `tf.tidy`.
   * @internal
   */
  protected withLoaded<T extends tf.TensorContainer>(fn: () => T): T {
    if (this.loaded) return tf.tidy(fn);
    if (HANDLER_STACK.length > 0) {
      this.loadSamples();
      try {
        return tf.tidy(fn);
      } finally {
        this.clearSamples();
      }
    }
    return tf.tidy(() => {
      this.loadSamples();
      try {
        return fn();
      } finally {
        this.clearSamples();
      }
    });
  }

  /**
   * Remove this module's parameters (and those of its sub-modules) from the global store and
   * free their variables. Priors stay the caller's.
   */
  dispose(): void {
    const store = getParamStore();
    for (const m of this.modules()) {
      for (const p of m.hyper.keys()) {
        store.delete(m.fullName(p));
        for (const suffix of ['_map', '_loc', '_scale']) store.delete(`${m.fullName(p)}${suffix}`);
      }
    }
  }
}
