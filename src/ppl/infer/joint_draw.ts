/**
 * Draws from a model's joint distribution and the guide matched to them (Pyro's
 * `_sample_from_joint` and `_get_matched_trace` of `CSIS` and `ReweightedWakeSleep`'s sleep
 * phase): the model runs under `uncondition`, so that its observed sites are drawn too,
 *
 * $$(z, x) \sim p(z)\,p(x \mid z),$$
 *
 * and the guide then runs replayed at the drawn latents `z`, given the drawn observations `x` in
 * place of the data, so that `log q(z | x)` can be scored. Every drawn value is detached (no
 * gradient flows into the model).
 *
 * How the guide gets `x`: Pyro passes the drawn observations as keyword arguments. Here a
 * `guideArgs(observations, ...args)` function maps them to the guide's arguments; without one,
 * every argument (or a property of a plain-object argument, or an element of an array argument)
 * that is the very tensor a site observed is replaced by that site's draw, which covers models
 * written `sample('y', d, { obs: y })` with `y` an argument of both model and guide.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { replay } from '../handlers/replay.js';
import { trace } from '../handlers/trace.js';
import { uncondition } from '../handlers/uncondition.js';
import { makeMessage } from '../runtime.js';
import { Trace } from '../trace.js';
import { detachSiteValue } from './detach.js';
import { asFn, type Callable } from './elbo.js';

/** Maps the drawn observations (by site name) and the model's arguments to the guide's arguments. */
export type GuideArgsFn<A extends unknown[]> = (
  observations: Record<string, tf.Tensor>,
  ...args: A
) => A;

/** One draw from the model's joint: detached latents and observations by site name. */
export interface JointDraw {
  /** The latent sample sites' draws (detached). */
  latents: Record<string, tf.Tensor>;
  /** The observed sites' draws (detached). */
  observations: Record<string, tf.Tensor>;
  /** The tensors the observed sites were given (`obs`), by site name. */
  originals: Record<string, tf.Tensor>;
}

/**
 * Run `model` unconditioned once (untidied: call inside a tidy, or keep what you need).
 * `deterministic` sites are left out.
 * @param wrap an optional wrapper of the model (e.g. a particle plate).
 */
export function drawFromJoint<A extends unknown[]>(
  model: Callable<A>,
  args: A,
  wrap: (f: (...a: A) => unknown) => (...a: A) => unknown = (f) => f,
): JointDraw {
  const tr = trace(wrap(uncondition(asFn(model)))).getTraceUntidied(...args).trace;
  const out: JointDraw = { latents: {}, observations: {}, originals: {} };
  for (const s of tr.sampleSites()) {
    if (s.value === null || s.infer['deterministic'] === true) continue;
    if (s.infer['wasObserved'] === true) {
      out.observations[s.name] = detachSiteValue(s) as tf.Tensor;
      const o = s.infer['obs'];
      if (o instanceof tf.Tensor) out.originals[s.name] = o;
    } else if (!s.isObserved) {
      out.latents[s.name] = detachSiteValue(s) as tf.Tensor;
    }
  }
  return out;
}

/** `a` with each tensor that some site observed replaced by that site's draw. */
function substituteOne(a: unknown, swap: Map<tf.Tensor, tf.Tensor>, depth: number): unknown {
  if (a instanceof tf.Tensor) return swap.get(a) ?? a;
  if (depth > 0) return a;
  if (Array.isArray(a)) return a.map((x) => substituteOne(x, swap, depth + 1));
  if (a !== null && typeof a === 'object' && Object.getPrototypeOf(a) === Object.prototype) {
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(a)) o[k] = substituteOne(v, swap, depth + 1);
    return o;
  }
  return a;
}

/**
 * The guide's arguments for a joint draw: `guideArgs(observations, ...args)` when given (checked
 * to return an array), else `args` with each observed tensor replaced by its draw.
 * @throws ArgumentError naming `guideArgs` when it does not return an array.
 */
export function guideArgsFor<A extends unknown[]>(
  draw: JointDraw,
  args: A,
  guideArgs: GuideArgsFn<A> | undefined,
): A {
  if (guideArgs !== undefined) {
    const out = guideArgs(draw.observations, ...args);
    if (!Array.isArray(out)) {
      throw new ArgumentError(
        'guideArgs',
        `expected (observations, ...args) => the guide's arguments as an array, got ${typeof out}`,
      );
    }
    return out;
  }
  const swap = new Map<tf.Tensor, tf.Tensor>();
  for (const [name, o] of Object.entries(draw.originals)) {
    const v = draw.observations[name];
    if (v !== undefined) swap.set(o, v);
  }
  if (swap.size === 0) return args;
  return args.map((a) => substituteOne(a, swap, 0)) as A;
}

/** A trace holding only `values` as sample sites, for `replay`. */
function valuesTrace(values: Record<string, tf.Tensor>): Trace {
  const t = new Trace();
  for (const [name, value] of Object.entries(values)) {
    t.add(makeMessage({ type: 'sample', name, value }));
  }
  return t;
}

/**
 * The guide's trace replayed at a joint draw's latents, given the draw's observations
 * (untidied). Checks the match as Pyro's `check_model_guide_match`, made an error: every latent
 * of the model is drawn by the guide, and every latent guide site (not `isAuxiliary`) is a latent
 * of the model.
 * @param wrap an optional wrapper of the guide (e.g. a particle plate).
 * @throws ArgumentError naming the first site that breaks the match.
 */
export function matchedGuideTrace<A extends unknown[]>(
  guide: Callable<A>,
  draw: JointDraw,
  args: A,
  guideArgs: GuideArgsFn<A> | undefined,
  wrap: (f: (...a: A) => unknown) => (...a: A) => unknown = (f) => f,
): Trace {
  const gArgs = guideArgsFor(draw, args, guideArgs);
  const fn = wrap(replay(asFn(guide), { trace: valuesTrace(draw.latents) }));
  const g = trace(fn).getTraceUntidied(...gArgs).trace;
  for (const name of Object.keys(draw.latents)) {
    const s = g.get(name);
    if (s === undefined || s.type !== 'sample' || s.isObserved) {
      throw new ArgumentError(
        name,
        `latent site '${name}' of the model is missing from the guide (the guide must sample ` +
          'every unobserved model site)',
      );
    }
  }
  for (const s of g.latentSites()) {
    if (s.infer.isAuxiliary === true || s.name in draw.latents) continue;
    throw new ArgumentError(
      s.name,
      s.name in draw.observations
        ? `guide site '${s.name}' is observed in the model`
        : `guide site '${s.name}' does not appear in the model (sample it in the model, or ` +
            'mark it {infer: {isAuxiliary: true}})',
    );
  }
  return g;
}
