/**
 * The state of one chain of a Hamiltonian kernel and Stan's warmup over it: the initial
 * step-size search, dual averaging of the step size towards `targetAcceptProb` and windowed
 * estimation of a diagonal, block or dense inverse metric (the kernel itself is `kernel.ts`'s
 * {@link HamiltonianKernel}; it writes only the trajectory).
 */
import { ArgumentError } from '../../utils/errors.js';
import { cloneChainState, type ChainState } from './chain_state.js';
import { DualAveraging } from './dual_averaging.js';
import { hamiltonian, type PhasePoint, type PotentialRequests } from './integrator.js';
import type { BatchRequests } from './drive.js';
import { Metric } from './metric.js';
import type { ChainRng } from './rng.js';
import { findReasonableStepSize } from './step_size.js';
import { WelfordEstimator } from './welford.js';
import { warmupWindows } from './warmup.js';
import { maskToBlocks, type ResolvedHamiltonianOptions } from './hamiltonian_options.js';
import type { HamiltonianKernel } from './kernel.js';

/** What one transition reports. */
export interface TransitionStats {
  /** Mean Metropolis acceptance probability over the trajectory (Stan's `accept_stat__`). */
  acceptStat: number;
  /** Step size used. */
  stepSize: number;
  /** Leapfrog steps taken (gradient evaluations). */
  numSteps: number;
  /** Tree depth (NUTS) or 0 (HMC). */
  treeDepth: number;
  /** The trajectory hit an energy error above `maxDeltaEnergy` (or a non-finite energy). */
  divergent: boolean;
  /** Hamiltonian at the returned point. */
  energy: number;
  /** Potential energy `U(q)` at the returned point (minus the log density). */
  potentialEnergy: number;
}

/**
 * Chains that move together (an ensemble's walkers): one transition of all of them at once, each
 * chain's statistics in order; its requests are batches of positions (answered by one
 * `valueAndGradBatch` where the potential has it, `drive.ts` `driveBatches`). @internal
 */
export interface ChainGroup {
  step(): BatchRequests<TransitionStats[]>;
}

/** The state of one chain of a Hamiltonian kernel, stepped by the MCMC driver. */
export class ChainSampler {
  /** Current position, potential and gradient (`p` holds the last momentum). */
  point: PhasePoint;
  /** Current step size. */
  stepSize: number;
  readonly metric: Metric;
  private readonly dual: DualAveraging;
  private readonly estimator: WelfordEstimator;
  /** The coordinates' blocks of a block-structured dense metric. */
  private readonly blocks: Int32Array | undefined;
  private readonly windows: [number, number][];
  /** The last iteration whose update a kernel without the step-size search recentres after. */
  private readonly averageRestart: number;
  protected iteration_ = 0;
  private initialized_ = false;

  constructor(
    private readonly kernel: HamiltonianKernel,
    private readonly opts: ResolvedHamiltonianOptions,
    q0: Float64Array,
    readonly numWarmup: number,
    readonly rng: ChainRng,
  ) {
    const d = q0.length;
    const imm = opts.inverseMassMatrix;
    if (imm !== undefined && imm.length !== (opts.fullMass ? d * d : d)) {
      throw new ArgumentError(
        'inverseMassMatrix',
        `the model has ${d} unconstrained coordinates: expected ${opts.fullMass ? `${d * d} values (a ${d} x ${d} matrix, row-major, fullMass)` : `${d} values (the diagonal)`}, got ${imm.length}`,
      );
    }
    if (opts.massBlocks !== undefined) {
      const ms = kernel.massStructure;
      if (ms === undefined || ms.length !== d) {
        throw new ArgumentError(
          'fullMass',
          `blocks of site names need the model's latent layout (${kernel.constructor.name} chains set up by MCMC over a model, chainMethod 'sequential' or 'vectorized'); use fullMass: true`,
        );
      }
      this.blocks = ms;
    }
    this.metric = new Metric(d, opts.fullMass ? 'dense' : 'diag', imm);
    this.stepSize = opts.stepSize;
    this.dual = new DualAveraging({
      ...kernel.dualAveragingOptions(),
      targetAcceptProb: opts.targetAcceptProb,
    });
    this.estimator = new WelfordEstimator(d, opts.fullMass);
    this.windows = opts.adaptMassMatrix ? warmupWindows(numWarmup, opts.windows) : [];
    const last = this.windows[this.windows.length - 1];
    this.averageRestart = last !== undefined ? last[1] : Math.floor(numWarmup / 2) - 1;
    this.point = {
      q: q0.slice(),
      p: new Float64Array(d),
      potential: NaN,
      grad: new Float64Array(d),
    };
  }

  /** Evaluate the initial point and (when adapting) search a first step size. */
  *initialize(): PotentialRequests<void> {
    const { value, grad, reason } = yield this.point.q.slice();
    if (!Number.isFinite(value) || !grad.every(Number.isFinite)) {
      throw new ArgumentError(
        reason !== undefined ? 'model' : 'initParams',
        reason !== undefined
          ? `the model rejected the initial point: ${reason}`
          : `the potential energy or its gradient is not finite at the initial point (U = ${value}${
              Number.isFinite(value) ? ', a gradient entry is not finite' : ''
            }): a site's log-probability or a factor is not finite there (check the model, or start elsewhere with initStrategy)`,
      );
    }
    this.point = { ...this.point, potential: value, grad };
    if (this.opts.adaptStepSize && this.numWarmup > 0) yield* this.restartStepSize();
    this.initialized_ = true;
  }

  /** Transitions taken so far (warmup included). */
  get iteration(): number {
    return this.iteration_;
  }

  /** Whether the initial point is evaluated (by {@link ChainSampler.initialize} or a restore). */
  get initialized(): boolean {
    return this.initialized_;
  }

  /** The chain's state as plain data (copies; see `chain_state.ts`). */
  state(): ChainState {
    return cloneChainState({
      q: this.point.q,
      potential: this.point.potential,
      grad: this.point.grad,
      stepSize: this.stepSize,
      inverseMass: this.metric.inverseMass,
      iteration: this.iteration_,
      numWarmup: this.numWarmup,
      dual: this.dual.state(),
      welford: this.estimator.state(),
      rng: this.rng.state(),
    });
  }

  /**
   * The group `samplers` (this one first) move as, or `undefined` when each chain moves alone
   * (the default; the ensemble kernels' walkers move together). @internal
   */
  group(_samplers: ChainSampler[]): ChainGroup | undefined {
    return undefined;
  }

  /** The position a kept draw stores (a copy of `q`; a Gibbs chain appends its Gibbs sites). */
  keptPosition(): Float64Array {
    return this.point.q.slice();
  }

  /** Continue from `s` (the generator is the caller's, already at `s.rng`). */
  restore(s: ChainState): void {
    this.point = {
      q: s.q.slice(),
      p: new Float64Array(s.q.length),
      potential: s.potential,
      grad: s.grad.slice(),
    };
    this.stepSize = s.stepSize;
    this.metric.set(s.inverseMass);
    this.dual.setState(s.dual);
    this.estimator.setState(s.welford);
    this.iteration_ = s.iteration;
    this.initialized_ = true;
  }

  /** Stan's heuristic initial step size at the current point; dual averaging restarts there. */
  private *restartStepSize(): PotentialRequests<void> {
    if (this.kernel.searchStepSize()) {
      this.stepSize = yield* findReasonableStepSize(
        this.point,
        this.stepSize,
        this.metric,
        this.rng,
      );
      this.dual.restart(this.stepSize);
    } else {
      // no search: the current step size is already near the target, the averages centre on it
      this.dual.restart(this.stepSize / 10);
    }
  }

  /** One transition; during the first `numWarmup` iterations it also adapts. */
  *step(): PotentialRequests<TransitionStats> {
    const warmup = this.iteration_ < this.numWarmup;
    const start: PhasePoint = {
      ...this.point,
      p: this.metric.sampleMomentum(this.rng, new Float64Array(this.point.q.length)),
    };
    const eps = this.stepSize;
    const res = yield* this.kernel.trajectory(start, eps, this.metric, this.rng);
    this.point = res.point;
    const stats: TransitionStats = {
      acceptStat: res.acceptStat,
      stepSize: eps,
      numSteps: res.numSteps,
      treeDepth: res.treeDepth,
      divergent: res.divergent,
      energy: hamiltonian(res.point, this.metric),
      potentialEnergy: res.point.potential,
    };
    if (warmup) yield* this.adapt(res.acceptStat);
    this.iteration_ += 1;
    return stats;
  }

  /** The warmup adaptation after a transition of acceptance statistic `acceptStat`. */
  protected *adapt(acceptStat: number): PotentialRequests<void> {
    const it = this.iteration_;
    if (this.opts.adaptStepSize) this.stepSize = this.dual.update(acceptStat);
    const w = this.windows.find(([a, b]) => it >= a && it <= b);
    if (w !== undefined) {
      this.estimator.add(this.point.q);
      if (it === w[1]) {
        // (a window of one draw has no variance: the metric is kept, as Stan's estimator does)
        if (this.estimator.count >= 2) {
          const v = this.estimator.regularizedVariance();
          this.metric.set(this.blocks === undefined ? v : maskToBlocks(v, this.blocks));
        }
        this.estimator.restart();
        // a kernel without the step-size search continues its iterates across the windows
        if (this.opts.adaptStepSize && this.kernel.searchStepSize()) yield* this.restartStepSize();
      }
    }
    // ... recentred at each new metric (and in the middle of a warmup with a fixed metric): the
    // final step size averages the iterates after the last one
    if (
      this.opts.adaptStepSize &&
      !this.kernel.searchStepSize() &&
      (it === this.averageRestart || it === w?.[1])
    ) {
      this.dual.recenter();
    }
    if (it === this.numWarmup - 1 && this.opts.adaptStepSize) this.stepSize = this.dual.final();
  }
}
