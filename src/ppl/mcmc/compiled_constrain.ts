/**
 * The map from a chain's unconstrained position to its stored site values, recorded once and
 * replayed without tfjs: the latent sites' constrained values `T_i(z_i)` and the `deterministic`
 * sites, as {@link ModelPotential.constrain} computes them with one model run per draw. Same
 * recording, contract and check as `compiled_potential.ts` (values agree with tfjs to float32
 * tolerance at the initial point and at a nearby point, else the tfjs path is used).
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelPotential } from './potential.js';
import type { TapeProgram } from './tape/program.js';
import { recordTape } from './tape/record.js';
import { TapeReplay } from './tape/replay.js';

/** Maps unconstrained positions to site values (see {@link ModelPotential.constrain}). */
export interface Constrainer {
  constrain(z: Float64Array): Map<string, { shape: number[]; values: Float32Array }>;
}

/** Site values replayed from a recorded program (one output per site). */
export class CompiledConstrain implements Constrainer {
  private readonly replay: TapeReplay;

  /**
   * @param program outputs: the sites' values, in the order of `names`.
   * @param names the site names.
   * @param shapes the sites' shapes.
   */
  constructor(
    readonly program: TapeProgram,
    readonly names: string[],
    readonly shapes: number[][],
  ) {
    this.replay = new TapeReplay(program);
  }

  constrain(z: Float64Array): Map<string, { shape: number[]; values: Float32Array }> {
    this.replay.forward(z);
    const out = new Map<string, { shape: number[]; values: Float32Array }>();
    this.names.forEach((n, k) => {
      out.set(n, {
        shape: [...(this.shapes[k] as number[])],
        values: Float32Array.from(this.replay.output(k)),
      });
    });
    return out;
  }
}

function close(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    if (!(Math.abs(x - y) <= 1e-4 * Math.max(1, Math.abs(y)))) return false;
  }
  return true;
}

/** Whether two constrained maps hold the same sites, shapes and (float32-close) values. */
function same(
  a: Map<string, { shape: number[]; values: Float32Array }>,
  b: Map<string, { shape: number[]; values: Float32Array }>,
): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (w === undefined || w.shape.join() !== v.shape.join() || !close(v.values, w.values))
      return false;
  }
  return true;
}

/**
 * The replayed site-value map of `mp` recorded at `z0`, or `null` when it cannot be recorded or
 * disagrees with tfjs at `z0` or at `z0 + 0.5`.
 */
export function compileConstrain(
  mp: ModelPotential<unknown[]>,
  z0: Float64Array,
): CompiledConstrain | null {
  try {
    let names: string[] = [];
    let shapes: number[][] = [];
    let program: TapeProgram | undefined;
    tf.tidy(() => {
      const parts = mp.sites.map((s) =>
        tf.tensor(
          Float32Array.from(z0.subarray(s.offset, s.offset + s.size)),
          s.unconstrainedShape,
        ),
      );
      program = recordTape((...xs: tf.Tensor[]) => {
        const r = mp.constrainTensors(xs);
        names = r.names;
        shapes = r.values.map((v) => [...v.shape]);
        return r.values;
      }, parts);
    });
    const cc = new CompiledConstrain(program as TapeProgram, names, shapes);
    for (const z of [z0, z0.map((v) => v + 0.5)]) {
      if (!same(cc.constrain(z), mp.constrain(z))) return null;
    }
    return cc;
  } catch {
    return null;
  }
}
