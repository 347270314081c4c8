/**
 * The host-side random stream of one Markov chain: momenta, the NUTS direction and multinomial
 * choices, initial points. A chain owns one generator seeded once, so the same seed gives
 * bit-identical chains whatever else runs in the process.
 */
import { makeRng } from '../../utils/seed.js';

/** The state of a {@link ChainRng}: its seed, the draws taken and the cached normal. */
export interface ChainRngState {
  seed: number;
  calls: number;
  spare: number | undefined;
}

/** A seeded uniform and standard-normal generator (Mulberry32 + Box–Muller, float64). */
export class ChainRng {
  private readonly gen: () => number;
  private spare: number | undefined;
  private calls = 0;

  /** @param seed the chain's seed (an integer; see `deriveSeeds` for one seed per chain). */
  constructor(
    readonly seed: number,
    skip = 0,
  ) {
    this.gen = makeRng(seed, skip);
    this.calls = skip;
  }

  private u(): number {
    this.calls += 1;
    return this.gen();
  }

  /** The generator's state as plain data (to continue the same stream in a worker thread). */
  state(): ChainRngState {
    return { seed: this.seed, calls: this.calls, spare: this.spare };
  }

  /**
   * A generator continuing the stream of a {@link ChainRng.state}, in constant time (the stream
   * jumps `calls` draws ahead; it used to replay them, a cost that grew with the run).
   */
  static fromState(s: ChainRngState): ChainRng {
    const r = new ChainRng(s.seed, s.calls);
    r.spare = s.spare;
    return r;
  }

  /** A uniform draw on `(0, 1)` (zero excluded, so `log(u)` is finite). */
  uniform(): number {
    let v = this.u();
    while (v === 0) v = this.u();
    return v;
  }

  /**
   * A standard normal draw by the Box–Muller transform:
   * `sqrt(-2 log u1) * (cos(2 pi u2), sin(2 pi u2))`, the second value kept for the next call.
   */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(this.uniform()));
    const a = 2 * Math.PI * this.u();
    this.spare = r * Math.sin(a);
    return r * Math.cos(a);
  }

  /** Fill `out` with standard normal draws. */
  normals(out: Float64Array): Float64Array {
    for (let i = 0; i < out.length; i++) out[i] = this.normal();
    return out;
  }
}
