/**
 * Replay kernels beyond element-wise ones (see `kernels.ts`): reductions (`Sum`, `Mean`, `Max`,
 * `Min`, `Prod`, and the boolean `All`/`Any`, over `axis`; `ArgMax`/`ArgMin`: the first extremum's index), `BatchMatMul` with broadcast batch dimensions and transposes,
 * `Softmax` over the last axis, `Cumsum`, deepprob's fused Normal log-density kernels and element
 * maps (`Gather` nodes). Each returns a forward step and a reverse-mode backward step over
 * preallocated buffers.
 */
import { HALF_LOG_2PI, NORMAL_LOG_PROB_SUM } from '../../../backend/kernels/normal.js';
import { UnsupportedKernelError } from './errors.js';
import { axesOf, broadcastIndex, reduceIndex, strides } from './indexing.js';
import type { TapeNode } from './program.js';
import type { NodeSteps, Slot } from './kernels.js';

export function reduce(node: TapeNode, out: Slot, x: Slot, inShape: number[]): NodeSteps {
  const map = reduceIndex(
    inShape,
    axesOf(node.attrs.axis ?? node.attrs.reductionIndices, inShape.length),
  );
  const n = x.v.length;
  const { v: xv, g: xg } = x;
  const { v: yv, g: yg } = out;
  const count = n / Math.max(1, yv.length);
  switch (node.op) {
    case 'Sum':
    case 'Mean': {
      const scale = node.op === 'Mean' ? 1 / count : 1;
      return {
        fwd: () => {
          yv.fill(0);
          for (let i = 0; i < n; i++)
            yv[map[i] as number] = (yv[map[i] as number] as number) + (xv[i] as number);
          if (scale !== 1) for (let j = 0; j < yv.length; j++) yv[j] = (yv[j] as number) * scale;
        },
        bwd: () => {
          for (let i = 0; i < n; i++)
            xg[i] = (xg[i] as number) + (yg[map[i] as number] as number) * scale;
        },
      };
    }
    case 'Max':
    case 'Min': {
      const max = node.op === 'Max';
      return {
        fwd: () => {
          yv.fill(max ? -Infinity : Infinity);
          for (let i = 0; i < n; i++) {
            const j = map[i] as number;
            const v = xv[i] as number;
            if (Number.isNaN(v) || (max ? v > (yv[j] as number) : v < (yv[j] as number))) yv[j] = v;
          }
        },
        bwd: () => {
          for (let i = 0; i < n; i++) {
            const j = map[i] as number;
            if (xv[i] === yv[j]) xg[i] = (xg[i] as number) + (yg[j] as number);
          }
        },
      };
    }
    case 'ArgMax':
    case 'ArgMin': {
      // the index of the first extremum along the one axis (tfjs's ties), no gradient
      const axis = (axesOf(node.attrs.axis, inShape.length)[0] ?? 0) as number;
      const stride = strides(inShape)[axis] as number;
      const len = inShape[axis] as number;
      const best = new Float64Array(yv.length);
      const max = node.op === 'ArgMax';
      return {
        fwd: () => {
          best.fill(max ? -Infinity : Infinity);
          yv.fill(0);
          for (let i = 0; i < n; i++) {
            const j = map[i] as number;
            const v = xv[i] as number;
            if (max ? v > (best[j] as number) : v < (best[j] as number)) {
              best[j] = v;
              yv[j] = Math.floor(i / stride) % len;
            }
          }
        },
        bwd: undefined,
      };
    }
    case 'Prod':
      return {
        fwd: () => {
          yv.fill(1);
          for (let i = 0; i < n; i++)
            yv[map[i] as number] = (yv[map[i] as number] as number) * (xv[i] as number);
        },
        bwd: () => {
          for (let i = 0; i < n; i++) {
            const j = map[i] as number;
            let others = 1; // the product of the other elements (exact also when x_i = 0)
            for (let k = 0; k < n; k++) if (k !== i && map[k] === j) others *= xv[k] as number;
            xg[i] = (xg[i] as number) + (yg[j] as number) * others;
          }
        },
      };
    case 'All':
    case 'Any': {
      // booleans as 0/1; no gradient flows through a boolean
      const all = node.op === 'All';
      return {
        fwd: () => {
          yv.fill(all ? 1 : 0);
          for (let i = 0; i < n; i++) {
            const j = map[i] as number;
            const b = xv[i] !== 0 ? 1 : 0;
            if (all ? b === 0 : b === 1) yv[j] = b;
          }
        },
        bwd: undefined,
      };
    }
    default:
      throw new UnsupportedKernelError(`kernel '${node.op}'`);
  }
}

/** `BatchMatMul`: `out[b] = op(A[b]) op(B[b])` with broadcast batch dimensions. */
export function matmul(node: TapeNode, out: Slot, a: Slot, b: Slot, shapes: number[][]): NodeSteps {
  const [sa, sb] = shapes as [number[], number[]];
  const ta = node.attrs.transposeA === true;
  const tb = node.attrs.transposeB === true;
  const ra = sa.length;
  const rb = sb.length;
  const m = ta ? (sa[ra - 1] as number) : (sa[ra - 2] as number);
  const k = ta ? (sa[ra - 2] as number) : (sa[ra - 1] as number);
  const n = tb ? (sb[rb - 2] as number) : (sb[rb - 1] as number);
  const batch = node.shape.slice(0, -2);
  const mapA = broadcastIndex(sa.slice(0, -2), batch);
  const mapB = broadcastIndex(sb.slice(0, -2), batch);
  const nb = mapA.length;
  // element strides of op(A)(i, l) and op(B)(l, j)
  const [ai, al] = ta ? [1, m] : [k, 1];
  const [bl, bj] = tb ? [1, k] : [n, 1];
  return {
    fwd: () => {
      for (let t = 0; t < nb; t++) {
        const ao = (mapA[t] as number) * m * k;
        const bo = (mapB[t] as number) * k * n;
        const oo = t * m * n;
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let s = 0;
            for (let l = 0; l < k; l++)
              s += (a.v[ao + i * ai + l * al] as number) * (b.v[bo + l * bl + j * bj] as number);
            out.v[oo + i * n + j] = s;
          }
        }
      }
    },
    bwd: () => {
      for (let t = 0; t < nb; t++) {
        const ao = (mapA[t] as number) * m * k;
        const bo = (mapB[t] as number) * k * n;
        const oo = t * m * n;
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            const g = out.g[oo + i * n + j] as number;
            if (g === 0) continue;
            for (let l = 0; l < k; l++) {
              if (a.rg)
                a.g[ao + i * ai + l * al] =
                  (a.g[ao + i * ai + l * al] as number) + g * (b.v[bo + l * bl + j * bj] as number);
              if (b.rg)
                b.g[bo + l * bl + j * bj] =
                  (b.g[bo + l * bl + j * bj] as number) + g * (a.v[ao + i * ai + l * al] as number);
            }
          }
        }
      }
    },
  };
}

/** `Softmax` over the last axis. */
export function softmax(node: TapeNode, out: Slot, x: Slot): NodeSteps {
  const r = node.shape.length;
  const dim = typeof node.attrs.dim === 'number' ? node.attrs.dim : -1;
  if (dim !== -1 && dim !== r - 1) throw new UnsupportedKernelError('Softmax over an inner axis');
  const d = node.shape[r - 1] as number;
  const rows = out.v.length / d;
  return {
    fwd: () => {
      for (let r = 0; r < rows; r++) {
        let mx = -Infinity;
        for (let j = 0; j < d; j++) mx = Math.max(mx, x.v[r * d + j] as number);
        let s = 0;
        for (let j = 0; j < d; j++)
          s += out.v[r * d + j] = Math.exp((x.v[r * d + j] as number) - mx);
        for (let j = 0; j < d; j++) out.v[r * d + j] = (out.v[r * d + j] as number) / s;
      }
    },
    bwd: () => {
      for (let r = 0; r < rows; r++) {
        let dot = 0;
        for (let j = 0; j < d; j++)
          dot += (out.g[r * d + j] as number) * (out.v[r * d + j] as number);
        for (let j = 0; j < d; j++) {
          x.g[r * d + j] =
            (x.g[r * d + j] as number) +
            (out.v[r * d + j] as number) * ((out.g[r * d + j] as number) - dot);
        }
      }
    },
  };
}

/** `Cumsum` along `axis` (`exclusive`, `reverse`): a linear map, its transpose the reverse scan. */
export function cumsum(node: TapeNode, out: Slot, x: Slot): NodeSteps {
  const shape = node.shape;
  const r = shape.length;
  const raw = typeof node.attrs.axis === 'number' ? node.attrs.axis : 0;
  const axis = raw < 0 ? raw + r : raw;
  const len = shape[axis] as number;
  const stride = strides(shape)[axis] as number;
  const outer = out.v.length / (len * stride);
  const excl = node.attrs.exclusive === true;
  const rev = node.attrs.reverse === true;
  // scan `src` into `dst` along the axis, forwards or backwards, inclusive or exclusive, adding
  const scan = (src: Float64Array, dst: Float64Array, backwards: boolean, add: boolean): void => {
    for (let o = 0; o < outer; o++) {
      for (let s = 0; s < stride; s++) {
        const base = o * len * stride + s;
        let acc = 0;
        for (let t = 0; t < len; t++) {
          const i = base + (backwards ? len - 1 - t : t) * stride;
          if (excl) {
            dst[i] = (add ? (dst[i] as number) : 0) + acc;
            acc += src[i] as number;
          } else {
            acc += src[i] as number;
            dst[i] = (add ? (dst[i] as number) : 0) + acc;
          }
        }
      }
    }
  };
  return {
    fwd: () => scan(x.v, out.v, rev, false),
    bwd: () => scan(out.g, x.g, !rev, true),
  };
}

/** deepprob's fused Normal log-density (element-wise or summed); parameters index cyclically. */
export function normalLogProb(node: TapeNode, out: Slot, ins: Slot[]): NodeSteps {
  const [x, loc, scale] = ins as [Slot, Slot, Slot];
  const n = x.v.length;
  const nl = loc.v.length;
  const ns = scale.v.length;
  const summed = node.op === NORMAL_LOG_PROB_SUM;
  const logScale = new Float64Array(ns); // log(scale) once per parameter, not per element
  return {
    fwd: () => {
      for (let j = 0; j < ns; j++) logScale[j] = Math.log(scale.v[j] as number);
      let acc = 0;
      for (let i = 0; i < n; i++) {
        const s = scale.v[i % ns] as number;
        const z = ((x.v[i] as number) - (loc.v[i % nl] as number)) / s;
        const lp = -0.5 * z * z - (logScale[i % ns] as number) - HALF_LOG_2PI;
        if (summed) acc += lp;
        else out.v[i] = lp;
      }
      if (summed) out.v[0] = acc;
    },
    bwd: () => {
      for (let i = 0; i < n; i++) {
        const g = (summed ? out.g[0] : out.g[i]) as number;
        const s = scale.v[i % ns] as number;
        const z = ((x.v[i] as number) - (loc.v[i % nl] as number)) / s;
        if (x.rg) x.g[i] = (x.g[i] as number) + (-g * z) / s;
        if (loc.rg) loc.g[i % nl] = (loc.g[i % nl] as number) + (g * z) / s;
        if (scale.rg) scale.g[i % ns] = (scale.g[i % ns] as number) + (g * (z * z - 1)) / s;
      }
    },
  };
}

/** An element map (`Gather` node). */
export function gather(node: TapeNode, out: Slot, ins: Slot[]): NodeSteps {
  const src = node.src as Int32Array;
  const idx = node.idx as Int32Array;
  const fill = node.value as Float64Array;
  const n = src.length;
  return {
    fwd: () => {
      for (let j = 0; j < n; j++) {
        const s = src[j] as number;
        out.v[j] = s < 0 ? (fill[j] as number) : ((ins[s] as Slot).v[idx[j] as number] as number);
      }
    },
    bwd: () => {
      for (let j = 0; j < n; j++) {
        const s = src[j] as number;
        if (s >= 0 && (ins[s] as Slot).rg)
          (ins[s] as Slot).g[idx[j] as number] =
            ((ins[s] as Slot).g[idx[j] as number] as number) + (out.g[j] as number);
      }
    },
  };
}

/** Product of `shape[a..b)`. */
function span(shape: readonly number[], a: number, b: number): number {
  let n = 1;
  for (let d = a; d < b; d++) n *= shape[d] as number;
  return n;
}

/**
 * `GatherV2` (`batchDims` 0) with indices computed from the inputs: along `axis` of `x`
 * (`[outer, dim, inner]`), `out[o, j, i] = x[o, indices[j], i]`; the gradient scatters back to
 * `x` (none to the indices). An index outside `0..dim-1` gives NaN.
 */
export function gatherIndexed(
  node: TapeNode,
  out: Slot,
  ins: Slot[],
  shapes: number[][],
): NodeSteps {
  const xi = node.inputNames.indexOf('x');
  const ii = node.inputNames.indexOf('indices');
  const batchDims = Number(node.attrs.batchDims ?? 0);
  if (xi < 0 || ii < 0 || batchDims !== 0) {
    throw new UnsupportedKernelError(
      'GatherV2 with batchDims and indices computed from the inputs',
    );
  }
  const x = ins[xi] as Slot;
  const ind = ins[ii] as Slot;
  const xs = shapes[xi] as number[];
  let axis = Number(node.attrs.axis ?? 0);
  if (axis < 0) axis += xs.length;
  const outer = span(xs, 0, axis);
  const dim = xs[axis] as number;
  const inner = span(xs, axis + 1, xs.length);
  const m = ind.v.length;
  return {
    fwd: () => {
      for (let o = 0; o < outer; o++) {
        for (let j = 0; j < m; j++) {
          const k = ind.v[j] as number;
          const ok = k >= 0 && k < dim && Number.isInteger(k);
          const dst = (o * m + j) * inner;
          const src = (o * dim + k) * inner;
          for (let i = 0; i < inner; i++) out.v[dst + i] = ok ? (x.v[src + i] as number) : NaN;
        }
      }
    },
    bwd: x.rg
      ? () => {
          for (let o = 0; o < outer; o++) {
            for (let j = 0; j < m; j++) {
              const k = ind.v[j] as number;
              if (!(k >= 0 && k < dim && Number.isInteger(k))) continue;
              const dst = (o * m + j) * inner;
              const src = (o * dim + k) * inner;
              for (let i = 0; i < inner; i++) {
                x.g[src + i] = (x.g[src + i] as number) + (out.g[dst + i] as number);
              }
            }
          }
        }
      : undefined,
  };
}

/** `OneHot` of indices computed from the inputs: `onValue` at `indices[i]`, else `offValue`. */
export function oneHot(node: TapeNode, out: Slot, ind: Slot): NodeSteps {
  const depth = Number(node.attrs.depth);
  const on = Number(node.attrs.onValue ?? 1);
  const off = Number(node.attrs.offValue ?? 0);
  return {
    fwd: () => {
      for (let i = 0; i < ind.v.length; i++) {
        const k = ind.v[i] as number;
        for (let c = 0; c < depth; c++) out.v[i * depth + c] = k === c ? on : off;
      }
    },
  };
}
