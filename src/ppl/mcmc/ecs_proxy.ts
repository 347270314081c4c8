/**
 * The Taylor proxy of `HMCECS`'s difference estimator (Quiroz et al. 2019, NumPyro's `perturbed`
 * method): per datum `q_i(θ) = l_i(θ̂) + g_i^T Δ + ½ Δ^T H_i Δ`, `Δ = θ - θ̂` in the unconstrained
 * space, with the sums `Σ l_i(θ̂)`, `Σ g_i`, `Σ H_i` over the whole data set; its coefficients by
 * central differences of the per-datum log-likelihoods, its value and gradient per datum and summed.
 */
import type { ECSPlate } from './ecs_plates.js';

/** The per-datum Taylor coefficients of one plate at the reference point. */
export interface PlateProxy {
  /** `l_i(θ̂)`, `N` values. */
  l0: Float64Array;
  /** `g_i`, `N x d` row-major. */
  g: Float64Array;
  /** `H_i`, `N x d x d` (absent for degree 1). */
  h: Float64Array | undefined;
  /** `Σ l_i(θ̂)`, `Σ g_i`, `Σ H_i`. */
  sumL0: number;
  sumG: Float64Array;
  sumH: Float64Array | undefined;
}

/** The proxy of the target (the reference point and each plate's coefficients). */
export interface ECSProxy {
  /** `θ̂` in the unconstrained layout. */
  theta0: Float64Array;
  degree: 1 | 2;
  plates: PlateProxy[];
}

/** `Σ_{i=1}^N q_i(θ) = Σ l_i(θ̂) + (Σ g_i)^T Δ + ½ Δ^T (Σ H_i) Δ` of a plate at `Δ = dl`. */
export function proxySum(pp: PlateProxy, dl: Float64Array): number {
  const d = dl.length;
  let s = pp.sumL0;
  for (let a = 0; a < d; a++) s += (pp.sumG[a] as number) * (dl[a] as number);
  if (pp.sumH !== undefined) {
    for (let a = 0; a < d; a++) {
      for (let b = 0; b < d; b++) {
        s += 0.5 * (dl[a] as number) * (pp.sumH[a * d + b] as number) * (dl[b] as number);
      }
    }
  }
  return s;
}

/**
 * `q_i(θ) = l_i(θ̂) + g_i^T Δ + ½ Δ^T H_i Δ` of a plate for datum `i` at `Δ = dl`, and its gradient
 * `∇q_i = g_i + H_i Δ` into `grad` when given.
 */
export function proxyValue(
  pp: PlateProxy,
  i: number,
  dl: Float64Array,
  grad?: Float64Array,
): number {
  const d = dl.length;
  let s = pp.l0[i] as number;
  for (let a = 0; a < d; a++) {
    const g = pp.g[i * d + a] as number;
    s += g * (dl[a] as number);
    if (grad !== undefined) grad[a] = g;
  }
  if (pp.h !== undefined) {
    const base = i * d * d;
    for (let a = 0; a < d; a++) {
      let r = 0;
      for (let b = 0; b < d; b++) r += (pp.h[base + a * d + b] as number) * (dl[b] as number);
      s += 0.5 * (dl[a] as number) * r;
      if (grad !== undefined) grad[a] = (grad[a] as number) + r;
    }
  }
  return s;
}

/**
 * The Taylor proxy at `theta0` (unconstrained): the per-datum values, gradients and (degree 2)
 * Hessians by central differences of `perDatum` (each plate's `l_i(θ)` over all `N` data) with
 * step `h`: `g_ia = (l_i(θ̂ + h e_a) - l_i(θ̂ - h e_a)) / 2h`, `H_iaa = (l_i(θ̂ + h e_a) - 2 l_i(θ̂) +
 * l_i(θ̂ - h e_a)) / h²`, `H_iab = (l_i(θ̂ + h e_a + h e_b) - l_i(θ̂ + h e_a - h e_b) -
 * l_i(θ̂ - h e_a + h e_b) + l_i(θ̂ - h e_a - h e_b)) / 4h²`.
 */
export function fitTaylorProxy(
  perDatum: (z: Float64Array) => Float64Array[],
  ecsPlates: readonly ECSPlate[],
  theta0: Float64Array,
  degree: 1 | 2,
  h: number,
): ECSProxy {
  const d = theta0.length;
  const at = (dz: [number, number][]): Float64Array[] => {
    const z = theta0.slice();
    for (const [i, s] of dz) z[i] = (z[i] as number) + s;
    return perDatum(z);
  };
  const f0 = at([]);
  const plus: Float64Array[][] = [];
  const minus: Float64Array[][] = [];
  for (let a = 0; a < d; a++) {
    plus.push(at([[a, h]]));
    minus.push(at([[a, -h]]));
  }
  const plates = ecsPlates.map((p, k): PlateProxy => {
    const n = p.size;
    const l0 = f0[k] as Float64Array;
    const g = new Float64Array(n * d);
    for (let a = 0; a < d; a++) {
      const fp = (plus[a] as Float64Array[])[k] as Float64Array;
      const fm = (minus[a] as Float64Array[])[k] as Float64Array;
      for (let i = 0; i < n; i++) g[i * d + a] = ((fp[i] as number) - (fm[i] as number)) / (2 * h);
    }
    const sumG = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      for (let a = 0; a < d; a++) sumG[a] = (sumG[a] as number) + (g[i * d + a] as number);
    }
    return {
      l0,
      g,
      h: undefined,
      sumL0: l0.reduce((s, v) => s + v, 0),
      sumG,
      sumH: undefined,
    };
  });
  if (degree === 2) {
    const hs = ecsPlates.map((p) => new Float64Array(p.size * d * d));
    for (let a = 0; a < d; a++) {
      ecsPlates.forEach((p, k) => {
        const fp = (plus[a] as Float64Array[])[k] as Float64Array;
        const fm = (minus[a] as Float64Array[])[k] as Float64Array;
        const f = f0[k] as Float64Array;
        const hk = hs[k] as Float64Array;
        for (let i = 0; i < p.size; i++) {
          hk[i * d * d + a * d + a] =
            ((fp[i] as number) - 2 * (f[i] as number) + (fm[i] as number)) / (h * h);
        }
      });
      for (let b = a + 1; b < d; b++) {
        const pp = at([
          [a, h],
          [b, h],
        ]);
        const pm = at([
          [a, h],
          [b, -h],
        ]);
        const mp = at([
          [a, -h],
          [b, h],
        ]);
        const mm = at([
          [a, -h],
          [b, -h],
        ]);
        ecsPlates.forEach((p, k) => {
          const hk = hs[k] as Float64Array;
          const [x1, x2, x3, x4] = [pp[k], pm[k], mp[k], mm[k]] as Float64Array[];
          for (let i = 0; i < p.size; i++) {
            const v =
              ((x1?.[i] as number) -
                (x2?.[i] as number) -
                (x3?.[i] as number) +
                (x4?.[i] as number)) /
              (4 * h * h);
            hk[i * d * d + a * d + b] = v;
            hk[i * d * d + b * d + a] = v;
          }
        });
      }
    }
    plates.forEach((pp, k) => {
      const hk = hs[k] as Float64Array;
      const sumH = new Float64Array(d * d);
      const n = (ecsPlates[k] as ECSPlate).size;
      for (let i = 0; i < n; i++) {
        for (let e = 0; e < d * d; e++)
          sumH[e] = (sumH[e] as number) + (hk[i * d * d + e] as number);
      }
      pp.h = hk;
      pp.sumH = sumH;
    });
  }
  return { theta0: theta0.slice(), degree, plates };
}
