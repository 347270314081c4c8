/**
 * The No-U-Turn Sampler (Hoffman & Gelman 2014) in the form used by Stan and NumPyro
 * (Betancourt 2017): the trajectory doubles forwards or backwards at random; points are chosen by
 * multinomial sampling with weights `exp(H0 - H)` (biased progressive sampling between subtrees,
 * uniform within them), and doubling stops at the generalized no-U-turn criterion
 * `p#_-^T rho > 0 and p#_+^T rho > 0` (`rho` the summed momenta, `p# = M^{-1} p`) checked on every
 * merged subtree and across the joins of adjacent subtrees, at `maxTreeDepth`, or at a divergence
 * (`H - H0 > maxDeltaEnergy`).
 */
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { hamiltonian, leapfrog, type PhasePoint, type PotentialRequests } from './integrator.js';
import {
  HAMILTONIAN_OPTION_KEYS,
  HamiltonianKernel,
  type HamiltonianOptions,
  type TrajectoryResult,
} from './kernel.js';
import type { Metric } from './metric.js';
import type { ChainRng } from './rng.js';

/** Options of {@link NUTS}. */
export interface NUTSOptions extends HamiltonianOptions {
  /** Maximum tree depth (at most `2^maxTreeDepth - 1` leapfrog steps). Default 10. */
  maxTreeDepth?: number;
}

/** `log(exp(a) + exp(b))`. */
function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = Math.max(a, b);
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

function sum(a: Float64Array, b: Float64Array): Float64Array {
  const o = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) o[i] = (a[i] as number) + (b[i] as number);
  return o;
}

/** The generalized no-U-turn criterion: both end velocities point along `rho`. */
function noUTurn(pSharpMinus: Float64Array, pSharpPlus: Float64Array, rho: Float64Array): boolean {
  return dot(pSharpPlus, rho) > 0 && dot(pSharpMinus, rho) > 0;
}

/** {@link noUTurn} with `rho = a + b`, without forming the sum. */
function noUTurnSum(
  pSharpMinus: Float64Array,
  pSharpPlus: Float64Array,
  a: Float64Array,
  b: Float64Array,
): boolean {
  let sp = 0;
  let sm = 0;
  for (let i = 0; i < a.length; i++) {
    const r = (a[i] as number) + (b[i] as number);
    sp += (pSharpPlus[i] as number) * r;
    sm += (pSharpMinus[i] as number) * r;
  }
  return sp > 0 && sm > 0;
}

/** A subtree: its end points (momenta and velocities), summed momentum, sample and weight. */
interface Subtree {
  /** The outermost point in the direction of integration (the next subtree starts there). */
  end: PhasePoint;
  pBeg: Float64Array;
  pEnd: Float64Array;
  pSharpBeg: Float64Array;
  pSharpEnd: Float64Array;
  rho: Float64Array;
  /** The multinomial sample of the subtree. */
  proposal: PhasePoint;
  logSumWeight: number;
  valid: boolean;
}

/** Statistics accumulated over one trajectory. */
interface Counters {
  numSteps: number;
  sumMetroProb: number;
  divergent: boolean;
}

/**
 * No-U-Turn Sampler kernel (Pyro's `NUTS`).
 *
 * @example
 * ```ts
 * const kernel = new NUTS(model, { targetAcceptProb: 0.8, maxTreeDepth: 10 });
 * const mcmc = new MCMC(kernel, { numSamples: 1000, warmupSteps: 1000 });
 * await mcmc.run(data);
 * mcmc.printSummary();
 * ```
 */
export class NUTS extends HamiltonianKernel {
  readonly maxTreeDepth: number;

  /**
   * @param model a model function (its latent sample sites are sampled), or a flat
   *   {@link Potential}.
   * @param options sampler and adaptation options.
   */
  constructor(model: unknown, options: NUTSOptions = {}) {
    super(model, options);
    checkOptionKeys(options, [...HAMILTONIAN_OPTION_KEYS, 'maxTreeDepth'], 'NUTS');
    const depth = options.maxTreeDepth ?? 10;
    if (!Number.isInteger(depth) || depth < 1 || depth > 30) {
      throw new ArgumentError('maxTreeDepth', `expected an integer in [1, 30], got ${depth}`);
    }
    this.maxTreeDepth = depth;
  }

  *trajectory(
    z0: PhasePoint,
    eps: number,
    metric: Metric,
    rng: ChainRng,
  ): PotentialRequests<TrajectoryResult> {
    const h0 = hamiltonian(z0, metric);
    const d = z0.q.length;
    const c: Counters = { numSteps: 0, sumMetroProb: 0, divergent: false };
    const pSharp0 = metric.velocity(z0.p, new Float64Array(d));
    let fwd = { z: z0, p: z0.p, pSharp: pSharp0 }; // forward end
    let bck = { z: z0, p: z0.p, pSharp: pSharp0 }; // backward end
    let rho: Float64Array = z0.p.slice();
    let sample = z0;
    let logSumWeight = 0;
    let depth = 0;
    while (depth < this.maxTreeDepth) {
      const forward = rng.uniform() > 0.5;
      const from = forward ? fwd : bck;
      const t = yield* this.buildTree(from.z, depth, forward ? eps : -eps, h0, metric, rng, c);
      if (!t.valid) break;
      // The old tree and the new subtree, ordered backward -> forward.
      const oldInner = forward ? fwd : bck; // end of the old tree adjacent to the new subtree
      const newEnd = { z: t.end, p: t.pEnd, pSharp: t.pSharpEnd };
      const newInner = { p: t.pBeg, pSharp: t.pSharpBeg };
      if (forward) fwd = newEnd;
      else bck = newEnd;
      depth += 1;
      if (t.logSumWeight > logSumWeight) sample = t.proposal;
      else if (rng.uniform() < Math.exp(t.logSumWeight - logSumWeight)) sample = t.proposal;
      logSumWeight = logAddExp(logSumWeight, t.logSumWeight);
      const rhoOld = rho;
      rho = sum(rhoOld, t.rho);
      // Whole tree, then the two joins (old tree + first point of the new subtree, and the
      // new subtree + the adjacent end of the old tree), oriented backward -> forward.
      let persist = noUTurn(bck.pSharp, fwd.pSharp, rho);
      if (forward) {
        persist &&= noUTurnSum(bck.pSharp, newInner.pSharp, rhoOld, newInner.p);
        persist &&= noUTurnSum(oldInner.pSharp, fwd.pSharp, t.rho, oldInner.p);
      } else {
        persist &&= noUTurnSum(newInner.pSharp, fwd.pSharp, rhoOld, newInner.p);
        persist &&= noUTurnSum(bck.pSharp, oldInner.pSharp, t.rho, oldInner.p);
      }
      if (!persist) break;
    }
    return {
      point: sample,
      acceptStat: c.numSteps > 0 ? c.sumMetroProb / c.numSteps : 0,
      numSteps: c.numSteps,
      treeDepth: depth,
      divergent: c.divergent,
    };
  }

  /** Build a subtree of `2^depth` leapfrog steps of signed size `eps` starting after `z`. */
  private *buildTree(
    z: PhasePoint,
    depth: number,
    eps: number,
    h0: number,
    metric: Metric,
    rng: ChainRng,
    c: Counters,
  ): PotentialRequests<Subtree> {
    if (depth === 0) {
      const next = yield* leapfrog(z, eps, metric);
      c.numSteps += 1;
      const h = hamiltonian(next, metric);
      const dH = h0 - h;
      if (!(h - h0 <= this.opts.maxDeltaEnergy)) c.divergent = true;
      c.sumMetroProb += dH > 0 ? 1 : Number.isFinite(dH) ? Math.exp(dH) : 0;
      const pSharp = metric.velocity(next.p, new Float64Array(next.q.length));
      return {
        end: next,
        pBeg: next.p,
        pEnd: next.p,
        pSharpBeg: pSharp,
        pSharpEnd: pSharp,
        rho: next.p, // never written in place (merges make new arrays)
        proposal: next,
        logSumWeight: Number.isFinite(dH) ? dH : -Infinity,
        valid: !c.divergent,
      };
    }
    const init = yield* this.buildTree(z, depth - 1, eps, h0, metric, rng, c);
    if (!init.valid) return init;
    const fin = yield* this.buildTree(init.end, depth - 1, eps, h0, metric, rng, c);
    if (!fin.valid) return fin;
    const lsw = logAddExp(init.logSumWeight, fin.logSumWeight);
    let proposal = init.proposal;
    if (fin.logSumWeight > lsw || rng.uniform() < Math.exp(fin.logSumWeight - lsw)) {
      proposal = fin.proposal;
    }
    const rho = sum(init.rho, fin.rho);
    let persist = noUTurn(init.pSharpBeg, fin.pSharpEnd, rho);
    persist &&= noUTurnSum(init.pSharpBeg, fin.pSharpBeg, init.rho, fin.pBeg);
    persist &&= noUTurnSum(init.pSharpEnd, fin.pSharpEnd, fin.rho, init.pEnd);
    return {
      end: fin.end,
      pBeg: init.pBeg,
      pEnd: fin.pEnd,
      pSharpBeg: init.pSharpBeg,
      pSharpEnd: fin.pSharpEnd,
      rho,
      proposal,
      logSumWeight: lsw,
      valid: persist,
    };
  }
}
