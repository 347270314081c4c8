/**
 * The potential energy of a recorded log density (see `compiled_potential.ts` for recording and
 * checking): `U(z) = -log p(z)` and `dU/dz` by replaying the tape in float64. It imports no
 * tfjs, so worker threads can run chains over it (`chainMethod: 'parallel'`).
 */
import type { PotentialPoint } from './integrator.js';
import type { Potential } from './potential.js';
import type { TapeProgram } from './tape/program.js';
import { TapeReplay } from './tape/replay.js';

/** A potential replayed from a recorded program of `log p + log|J|` (see the module docs). */
export class CompiledPotential implements Potential {
  readonly dim: number;
  private readonly replay: TapeReplay;

  /** @param program a recorded log density of the `dim` unconstrained latents (first output). */
  constructor(readonly program: TapeProgram) {
    this.replay = new TapeReplay(program);
    this.dim = this.replay.inputSize;
  }

  /** `U(z) = -log density` and `dU/dz`; a non-finite density gives `U = +Infinity`. */
  valueAndGrad(z: Float64Array): PotentialPoint {
    const grad = new Float64Array(this.dim);
    const lp = this.replay.valueAndGrad(z, grad);
    for (let i = 0; i < grad.length; i++) grad[i] = -(grad[i] as number);
    return { value: Number.isNaN(lp) ? Infinity : -lp, grad };
  }

  /** Kernel steps per evaluation (after dead-code removal). */
  get steps(): number {
    return this.replay.steps;
  }
}
