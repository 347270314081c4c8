/**
 * The target of the Gibbs kernels (`HMCGibbs`, `DiscreteHMCGibbs`; NumPyro's `_wrap_model` with
 * `_gibbs_sites`): the model with its Gibbs sites `z_g` held at given values (conditioned, so they
 * are scored), and the inner Hamiltonian kernel's potential over the other latents `z_h`,
 *
 * $$U(z_h; z_g) = -\bigl(\log p(\text{data}, T(z_h), z_g) + \log|\det J_T(z_h)|\bigr),$$
 *
 * as a {@link Potential} over the extended vector `x = [z_h, z_g]` (its gradient is `dU/dz_h`
 * followed by zeros: the Gibbs coordinates never move along a trajectory). Discrete latents that
 * are not Gibbs sites are still summed out by enumeration (`potential.ts`).
 *
 * Setting up a chain (NumPyro's `HMCGibbs.init`): one prior run of the model (seeded from the
 * chain's generator) gives the Gibbs sites' first values (or `initToValue` gives them), after the
 * sites are checked, naming the site, before any work: each named Gibbs site must be a latent
 * sample site; `DiscreteHMCGibbs` takes the discrete latents (not marked `enumerate: 'parallel'`)
 * and refuses a continuous one or one whose support cannot be enumerated (Poisson, Geometric,
 * ...: NumPyro's `DiscreteHMCGibbs` updates only sites with `has_enumerate_support`). Then the
 * inner kernel's start is found on the conditioned model as for NUTS (`initialPoint`).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { enumerateSupportTable, isEnumerable } from '../handlers/enum_support.js';
import { seed as seedHandler } from '../handlers/seed.js';
import { trace } from '../handlers/trace.js';
import { resolveInit, type InitStrategy } from '../init_strategy.js';
import { Messenger } from '../messenger.js';
import type { Message } from '../runtime.js';
import type { ChainSetup } from './chain_setup.js';
import type { Constrainer } from './compiled_constrain.js';
import { initialPoint } from './init.js';
import type { PotentialPoint } from './integrator.js';
import { ModelPotential, type LatentSite, type Potential } from './potential.js';
import { ChainRng } from './rng.js';
import { VERIFY_POINTS, type CompileMode } from './compiled_potential.js';
import type { TapeProgram } from './tape/program.js';
import { recordTape } from './tape/record.js';
import { TapeReplay } from './tape/replay.js';

/** Why a replayed `U` and `dU/dz_h` differ from tfjs's `ref` (float32 tolerance), or `null`. */
function disagreement(ref: PotentialPoint, u: number, grad: Float64Array): string | null {
  const fin = (x: number): boolean => Number.isFinite(x);
  if (!fin(ref.value) || !ref.grad.every(fin)) {
    return fin(u) && grad.every(fin) ? `tfjs gives U = ${ref.value}, the replay ${u}` : null;
  }
  if (!(Math.abs(u - ref.value) <= 1e-3 * Math.max(1, Math.abs(ref.value)))) {
    return `U differs: tfjs ${ref.value}, replay ${u}`;
  }
  let gmax = 1;
  for (const g of ref.grad) gmax = Math.max(gmax, Math.abs(g));
  for (let i = 0; i < ref.grad.length; i++) {
    if (!(Math.abs((grad[i] as number) - (ref.grad[i] as number)) <= 1e-3 * gmax)) {
      return `dU/dz[${i}] differs: tfjs ${ref.grad[i]}, replay ${grad[i]}`;
    }
  }
  return null;
}

/** One Gibbs site's place in the flat Gibbs values (and, for a discrete one, its support). */
export interface GibbsSite {
  name: string;
  /** Shape of its value. */
  shape: number[];
  /** The dtype the model saw in the prior run (kept when the value is given back). */
  dtype: tf.DataType;
  /** First index in the flat Gibbs values. */
  offset: number;
  /** Number of values. */
  size: number;
  /** Values per element (the event size: 1, or `K` for a one-hot vector). */
  eventSize: number;
  /** For a discrete Gibbs update: the `K` support values, `K * eventSize` numbers. */
  support?: Float64Array;
  /** `K` (0 when `support` is absent). */
  numValues: number;
}

/** Which sites a Gibbs kernel updates. */
export type GibbsSelection =
  | { kind: 'named'; names: readonly string[]; who: string }
  | { kind: 'discrete'; names?: readonly string[]; who: string };

/** Conditions the Gibbs sites on the target's current values. @internal */
class GibbsCondition extends Messenger {
  constructor(private readonly target: GibbsTarget) {
    super();
  }
  override processMessage(msg: Message): void {
    if (msg.type !== 'sample') return;
    const site = this.target.siteByName.get(msg.name);
    if (site === undefined) return;
    const rec = this.target.recordingInputs;
    if (rec !== undefined) {
      msg.value = rec[this.target.gibbsSites.indexOf(site)] as tf.Tensor;
    } else {
      const v = this.target.values.subarray(site.offset, site.offset + site.size);
      msg.value = tf.tensor(
        Float32Array.from(v),
        site.shape,
        site.dtype === 'int32' ? 'int32' : 'float32',
      );
    }
    msg.isObserved = true;
  }
}

/** The Gibbs sites of the model chosen by `sel`, with their prior-run values (see module docs). */
function prototype(
  model: (...a: unknown[]) => unknown,
  args: unknown[],
  sel: GibbsSelection,
  rngSeed: number,
): { sites: GibbsSite[]; values: Float64Array } {
  const sites: GibbsSite[] = [];
  const parts: Float64Array[] = [];
  tf.tidy(() => {
    const tr = trace(seedHandler(model, rngSeed)).getTraceUntidied(...args).trace;
    const all = tr.sampleSites();
    const latent = all.filter((s) => !s.isObserved && s.fn !== null);
    const list = (xs: Message[]): string =>
      xs.length === 0 ? 'none' : xs.map((s) => `'${s.name}'`).join(', ');
    for (const n of sel.names ?? []) {
      const s = all.find((x) => x.name === n);
      if (s === undefined || s.fn === null) {
        throw new ArgumentError(
          'gibbsSites',
          `${sel.who}: '${n}' is not a sample site of the model (its latent sites: ${list(latent)})`,
        );
      }
      if (s.isObserved) {
        throw new ArgumentError(
          'gibbsSites',
          `${sel.who}: site '${n}' is observed, not latent: only latent sites can be Gibbs sites`,
        );
      }
      if (sel.kind === 'discrete' && !s.fn.support.isDiscrete) {
        throw new ArgumentError(
          'gibbsSites',
          `${sel.who}: site '${n}' has the continuous support ${s.fn.support.name}; the discrete Gibbs step updates discrete sites only (leave it to the inner kernel, or use HMCGibbs with a gibbsFn)`,
        );
      }
    }
    const chosen =
      sel.names !== undefined
        ? latent.filter((s) => sel.names?.includes(s.name))
        : latent.filter(
            (s) =>
              (s.fn as NonNullable<Message['fn']>).support.isDiscrete &&
              s.infer.enumerate !== 'parallel',
          );
    if (chosen.length === 0) {
      throw new ArgumentError(
        'model',
        `${sel.who}: the model has no discrete latent site to update (discrete sites marked enumerate: 'parallel' are summed out by the inner kernel); use NUTS or HMC`,
      );
    }
    let offset = 0;
    for (const s of chosen) {
      const fn = s.fn as NonNullable<Message['fn']>;
      const value = s.value as tf.Tensor;
      const eventSize = fn.eventShape.reduce((a, b) => a * b, 1);
      let support: Float64Array | undefined;
      if (sel.kind === 'discrete') {
        if (!isEnumerable(fn)) {
          throw new ArgumentError(
            'model',
            `${sel.who}: discrete latent site '${s.name}' has the support ${fn.support.name} of ${fn.name}, which cannot be enumerated; the discrete Gibbs step (as NumPyro's DiscreteHMCGibbs) updates sites with a finite support only (a boolean, one integer interval, one-hot vectors): bound it (e.g. a Categorical over 0..K), or give it to HMCGibbs with a gibbsFn of your own`,
          );
        }
        support = Float64Array.from(enumerateSupportTable(fn, s.name).dataSync());
      }
      const size = value.size;
      sites.push({
        name: s.name,
        shape: [...value.shape],
        dtype: value.dtype,
        offset,
        size,
        eventSize,
        ...(support === undefined ? {} : { support }),
        numValues: support === undefined ? 0 : support.length / Math.max(1, eventSize),
      });
      parts.push(Float64Array.from(value.dataSync()));
      offset += size;
    }
  });
  const values = new Float64Array(sites.reduce((n, s) => n + s.size, 0));
  parts.forEach((p, i) => values.set(p, (sites[i] as GibbsSite).offset));
  return { sites, values };
}

/** A model conditioned on its Gibbs sites' current values (see the module docs). */
export class GibbsTarget implements Potential, Constrainer {
  /** The Gibbs sites' current values (set before each evaluation). */
  readonly values: Float64Array;
  readonly siteByName: Map<string, GibbsSite>;
  /** The inner potential over `z_h` (set by {@link GibbsTarget.setup}). */
  private mp!: ModelPotential<unknown[]>;
  /** The recorded `log p + log|J|` over `[z_h, z_g]`, when compiled. */
  private replay: TapeReplay | undefined;
  /** While recording: the Gibbs sites' input tensors. @internal */
  recordingInputs: tf.Tensor[] | undefined;

  private constructor(
    readonly model: (...a: unknown[]) => unknown,
    readonly args: unknown[],
    readonly gibbsSites: GibbsSite[],
  ) {
    this.values = new Float64Array(gibbsSites.reduce((n, s) => n + s.size, 0));
    this.siteByName = new Map(gibbsSites.map((s) => [s.name, s]));
  }

  /** Number of coordinates of `z_h`. */
  get hmcDim(): number {
    return this.mp.dim;
  }

  /** `dim(z_h) + dim(z_g)`. */
  get dim(): number {
    return this.mp.dim + this.values.length;
  }

  /** The model with its Gibbs sites at {@link GibbsTarget.values}. */
  readonly conditioned = (...a: unknown[]): unknown =>
    new GibbsCondition(this).run(() => this.model(...a));

  private split(x: Float64Array): Float64Array {
    this.values.set(x.subarray(this.mp.dim));
    return x.subarray(0, this.mp.dim);
  }

  valueAndGrad(x: Float64Array): PotentialPoint {
    if (this.replay !== undefined) {
      const grad = new Float64Array(this.dim);
      const lp = this.replay.valueAndGrad(x, grad);
      for (let i = 0; i < this.mp.dim; i++) grad[i] = -(grad[i] as number);
      grad.fill(0, this.mp.dim);
      return { value: Number.isNaN(lp) ? Infinity : -lp, grad };
    }
    const p = this.mp.valueAndGrad(this.split(x));
    const grad = new Float64Array(this.dim);
    grad.set(p.grad);
    return p.reason === undefined
      ? { value: p.value, grad }
      : { value: p.value, grad, reason: p.reason };
  }

  /** `U(z_h; z_g)` alone (one model run, no gradient). */
  energy(zh: Float64Array, zg: Float64Array): number {
    if (this.replay !== undefined) {
      const x = new Float64Array(this.dim);
      x.set(zh);
      x.set(zg, zh.length);
      this.replay.forward(x);
      const lp = this.replay.output(0)[0] as number;
      return Number.isNaN(lp) ? Infinity : -lp;
    }
    this.values.set(zg);
    return this.mp.energy(zh);
  }

  /**
   * Record `log p + log|J|` with the Gibbs values as inputs (`x0` the recording point) and check
   * its replay against tfjs at `x0` and at {@link VERIFY_POINTS} points around it, each with other
   * Gibbs values (discrete sites: values of their support); the reason it cannot be used, or
   * `null` when it is.
   */
  private compile(x0: Float64Array): string | null {
    if (this.gibbsSites.some((g) => g.dtype !== 'float32')) {
      return 'a Gibbs site is not float32';
    }
    const nh = this.mp.dim;
    let replay: TapeReplay;
    try {
      let program: TapeProgram | undefined;
      tf.tidy(() => {
        const parts = [
          ...this.mp.sites.map((s) =>
            tf.tensor(
              Float32Array.from(x0.subarray(s.offset, s.offset + s.size)),
              s.unconstrainedShape,
            ),
          ),
          ...this.gibbsSites.map((g) =>
            tf.tensor(
              Float32Array.from(x0.subarray(nh + g.offset, nh + g.offset + g.size)),
              g.shape,
            ),
          ),
        ];
        const n = this.mp.sites.length;
        program = recordTape((...xs: tf.Tensor[]) => {
          this.recordingInputs = xs.slice(n);
          try {
            return this.mp.logDensity(xs.slice(0, n));
          } finally {
            this.recordingInputs = undefined;
          }
        }, parts);
      });
      replay = new TapeReplay(program as TapeProgram);
    } catch (e) {
      if (e instanceof ArgumentError) throw e;
      return e instanceof Error ? e.message : String(e);
    }
    if (replay.inputSize !== this.dim)
      return `recorded ${replay.inputSize} inputs, expected ${this.dim}`;
    const rng = new ChainRng(0x5eed);
    const points = [x0];
    for (let k = 0; k < VERIFY_POINTS; k++) {
      const x = x0.slice();
      for (let i = 0; i < nh; i++) x[i] = (x[i] as number) + 2 * rng.uniform() - 1;
      for (const g of this.gibbsSites) {
        for (let b = nh + g.offset; b < nh + g.offset + g.size; b += g.eventSize) {
          if (g.support !== undefined) {
            const k2 = Math.floor(rng.uniform() * g.numValues);
            x.set(g.support.subarray(k2 * g.eventSize, (k2 + 1) * g.eventSize), b);
          } else {
            for (let i = b; i < b + g.eventSize; i++)
              x[i] = (x[i] as number) * (1 + 0.1 * rng.uniform());
          }
        }
      }
      points.push(x);
    }
    for (const x of points) {
      let ref: PotentialPoint;
      try {
        ref = this.mp.evaluate(this.split(x));
      } catch (e) {
        if (e instanceof ArgumentError && e.argument !== 'model') continue;
        throw e;
      }
      const grad = new Float64Array(this.dim);
      const lp = replay.valueAndGrad(x, grad);
      const why = disagreement(
        ref,
        -lp,
        grad.subarray(0, nh).map((g) => -g),
      );
      if (why !== null) return `the replay does not match tfjs (${why})`;
    }
    this.replay = replay;
    return null;
  }

  /** The Gibbs sites' values, then the inner sites' constrained and deterministic values. */
  constrain(x: Float64Array): Map<string, { shape: number[]; values: Float32Array }> {
    const zh = this.split(x);
    const out = new Map<string, { shape: number[]; values: Float32Array }>();
    for (const s of this.gibbsSites) {
      out.set(s.name, {
        shape: [...s.shape],
        values: Float32Array.from(this.values.subarray(s.offset, s.offset + s.size)),
      });
    }
    for (const [k, v] of this.mp.constrain(zh)) out.set(k, v);
    return out;
  }

  /**
   * Set up a chain (see the module docs): the Gibbs sites and their first values, the inner
   * kernel's start on the conditioned model (up to 100 redraws of both where the potential is not
   * finite), as a {@link ChainSetup} over the extended vector.
   */
  static setup(
    model: (...a: unknown[]) => unknown,
    args: unknown[],
    sel: GibbsSelection,
    strategy: InitStrategy | undefined,
    rng: ChainRng,
    maxPlateNesting: number | undefined,
    compile: CompileMode,
  ): { setup: ChainSetup; target: GibbsTarget } {
    const s = resolveInit(strategy, 'initStrategy');
    const given = s.kind === 'value' ? s.values : {};
    for (let attempt = 0; ; attempt++) {
      const proto = prototype(model, args, sel, Math.floor(rng.uniform() * 2147483647));
      const target = new GibbsTarget(model, args, proto.sites);
      target.values.set(proto.values);
      const inner: Record<string, tf.Tensor | tf.TensorLike> = {};
      for (const [k, v] of Object.entries(given)) {
        const gs = target.siteByName.get(k);
        if (gs === undefined) {
          inner[k] = v;
          continue;
        }
        const flat = v instanceof tf.Tensor ? v.dataSync() : tf.tidy(() => tf.tensor(v).dataSync());
        if (flat.length !== gs.size) {
          throw new ArgumentError(
            'initStrategy',
            `init value for the Gibbs site '${k}': expected ${gs.size} values (shape [${gs.shape.join(', ')}]), got ${flat.length}`,
          );
        }
        target.values.set(flat, gs.offset);
      }
      const init: InitStrategy | undefined =
        s.kind === 'value' ? { kind: 'value', values: inner } : strategy;
      const { sites, z, enumeration } = initialPoint(
        target.conditioned,
        args,
        init,
        rng,
        maxPlateNesting,
      );
      if (sites.length === 0) {
        throw new ArgumentError(
          'model',
          `${sel.who}: every latent site is a Gibbs site (${proto.sites.map((g) => `'${g.name}'`).join(', ')}): nothing is left for the inner HMC/NUTS kernel to sample`,
        );
      }
      target.mp = new ModelPotential(target.conditioned, args, sites, enumeration);
      const x = new Float64Array(target.dim);
      x.set(z);
      x.set(target.values, z.length);
      let ok = false;
      try {
        const { value, grad } = target.mp.evaluate(z);
        ok = Number.isFinite(value) && grad.every(Number.isFinite);
      } catch (e) {
        if (!(e instanceof ArgumentError) || e.argument === 'model' || attempt >= 99) throw e;
      }
      if (ok || attempt >= 99) {
        const reason = compile === false ? 'compile: false' : target.compile(x);
        if (reason !== null && compile === true) {
          throw new ArgumentError(
            'compile',
            `${sel.who}: the potential could not be recorded and replayed: ${reason} (use compile: 'auto' or false)`,
          );
        }
        const all: LatentSite[] = [
          ...sites,
          ...proto.sites.map((g) => ({
            name: g.name,
            shape: [...g.shape],
            unconstrainedShape: [...g.shape],
            offset: z.length + g.offset,
            size: g.size,
          })),
        ];
        return {
          target,
          setup: {
            potential: target,
            model: target,
            z: x,
            sites: all,
            compiled: reason === null,
            ...(reason === null ? {} : { reason }),
          },
        };
      }
    }
  }
}
