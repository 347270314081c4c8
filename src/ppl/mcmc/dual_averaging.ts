/**
 * Nesterov dual averaging of the log step size (Hoffman & Gelman 2014, Algorithm 5; Stan's
 * `stepsize_adaptation`). After each warmup transition with acceptance statistic `a`:
 *
 * `eta = 1/(t + t0)`, `s_bar = (1 - eta) s_bar + eta (delta - a)`,
 * `x = mu - s_bar sqrt(t) / gamma`, `x_bar = (1 - t^-kappa) x_bar + t^-kappa x`, `eps = exp(x)`;
 * at the end of warmup `eps = exp(x_bar)`. `mu = log(10 eps_0)` is reset with each new metric.
 *
 * {@link DualAveraging.recenter} continues the iterates without their history: `mu = x_t`,
 * `s_bar = 0`, `t` kept (so the gain `1/(gamma sqrt t)` runs on), and the average `x_bar` restarts
 * (its own counter `m`, weights `m^-kappa`): with `kappa = 1` the final step size is the geometric
 * mean of the step sizes since (`BarkerMH`'s adaptation across metric windows).
 */

/** Options of {@link DualAveraging} (Stan's defaults). */
export interface DualAveragingOptions {
  /** Target acceptance statistic `delta`. Default 0.8. */
  targetAcceptProb?: number;
  /** Shrinkage `gamma`. Default 0.05. */
  gamma?: number;
  /** Iteration offset `t0`. Default 10. */
  t0?: number;
  /** Decay exponent `kappa` of the averaging weights. Default 0.75. */
  kappa?: number;
}

/** The running averages of a {@link DualAveraging} as plain data (to continue a chain). */
export interface DualAveragingState {
  /** Updates since the last restart `t`. */
  counter: number;
  /** Averaged acceptance error `s_bar`. */
  sBar: number;
  /** Averaged log step size `x_bar`. */
  xBar: number;
  /** Shrinkage target `mu = log(10 eps_0)`. */
  mu: number;
  /**
   * Updates since the average `x_bar` was last restarted (by {@link DualAveraging.restart} or
   * {@link DualAveraging.recenter}); absent in states written before it existed: `counter`.
   */
  averageCounter?: number;
}

/** The dual-averaging state. */
export class DualAveraging {
  private counter = 0;
  private sBar = 0;
  private xBar = 0;
  private mu = 0;
  private averageCounter = 0;
  readonly delta: number;
  readonly gamma: number;
  readonly t0: number;
  readonly kappa: number;

  constructor(options: DualAveragingOptions = {}) {
    this.delta = options.targetAcceptProb ?? 0.8;
    this.gamma = options.gamma ?? 0.05;
    this.t0 = options.t0 ?? 10;
    this.kappa = options.kappa ?? 0.75;
  }

  /** Restart the averages around a new initial step size: `mu = log(10 eps0)`. */
  restart(stepSize: number): void {
    this.counter = 0;
    this.averageCounter = 0;
    this.sBar = 0;
    this.xBar = 0;
    this.mu = Math.log(10 * stepSize);
  }

  /**
   * Continue from the current iterate without the averages behind it:
   * `mu = x_t = mu - s_bar sqrt(t) / gamma`, `s_bar = 0`, `t` kept, and the average `x_bar`
   * restarted (the next update's `x` gets weight 1). The iterates go on from where they are, no
   * longer pulled towards an old `mu` by an old `s_bar`, and the final step size averages only the
   * iterates from here on.
   */
  recenter(): void {
    if (this.counter > 0) this.mu -= (this.sBar * Math.sqrt(this.counter)) / this.gamma;
    this.sBar = 0;
    this.averageCounter = 0;
    this.xBar = 0;
  }

  /** One update with acceptance statistic `acceptStat` (clipped to 1); returns the new step size. */
  update(acceptStat: number): number {
    this.counter += 1;
    this.averageCounter += 1;
    const a = Number.isFinite(acceptStat) ? Math.min(1, acceptStat) : 0;
    const eta = 1 / (this.counter + this.t0);
    this.sBar = (1 - eta) * this.sBar + eta * (this.delta - a);
    const x = this.mu - (this.sBar * Math.sqrt(this.counter)) / this.gamma;
    const xEta = this.averageCounter ** -this.kappa;
    this.xBar = (1 - xEta) * this.xBar + xEta * x;
    return Math.exp(x);
  }

  /** The running averages as plain data (a copy). */
  state(): DualAveragingState {
    return {
      counter: this.counter,
      sBar: this.sBar,
      xBar: this.xBar,
      mu: this.mu,
      averageCounter: this.averageCounter,
    };
  }

  /** Continue from averages taken by {@link DualAveraging.state}. */
  setState(s: DualAveragingState): void {
    this.counter = s.counter;
    this.sBar = s.sBar;
    this.xBar = s.xBar;
    this.mu = s.mu;
    this.averageCounter = s.averageCounter ?? s.counter;
  }

  /** The averaged step size `exp(x_bar)` used after warmup. */
  final(): number {
    return Math.exp(this.xBar);
  }
}
