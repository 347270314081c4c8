/**
 * Replay kernels: for one recorded node, a forward step computing its float64 values from its
 * inputs' and a backward step adding `d(out)/d(input)^T g_out` to its inputs' gradients
 * (reverse-mode). Buffers are preallocated views; steps allocate nothing.
 *
 * Supported: the element-wise kernels of `elementwise.ts` with NumPy broadcasting, `Cast`,
 * `Select`, `AddN`, the reductions `Sum`, `Mean`, `Max`, `Min`, `Prod` (`axis`, `keepDims`),
 * `BatchMatMul` (batch broadcasting, transposes), `Softmax` (last axis), `Cumsum`, deepprob's fused Normal
 * log-density kernels, and element maps (`Gather` nodes, see `program.ts`).
 */
import {
  NORMAL_LOG_PROB,
  NORMAL_LOG_PROB_SUM,
  HALF_LOG_2PI,
} from '../../../backend/kernels/normal.js';
import { BINARY, UNARY, castValue } from './elementwise.js';
import { sizeOf, type TapeNode } from './program.js';

/** A node's value and gradient buffers. */
export interface Slot {
  v: Float64Array;
  g: Float64Array;
  /** Whether the gradient of the output flows to this node (it depends on an input). */
  rg: boolean;
}

/** The steps of one node. */
export interface NodeSteps {
  fwd: () => void;
  /** Absent when no input needs a gradient or the kernel is not differentiable. */
  bwd?: () => void;
}

/** Why a program cannot be replayed. */
export class UnsupportedKernelError extends Error {}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--)
    s[i] = (s[i + 1] as number) * (shape[i + 1] as number);
  return s;
}

/** For each element of `outShape`, the element of a NumPy-broadcast input of `inShape`. */
export function broadcastIndex(
  inShape: readonly number[],
  outShape: readonly number[],
): Int32Array {
  const n = sizeOf(outShape);
  const map = new Int32Array(n);
  const r = outShape.length;
  const off = r - inShape.length;
  if (off < 0) throw new UnsupportedKernelError('an input of higher rank than its output');
  const os = strides(outShape);
  const is = strides(inShape);
  for (let j = 0; j < n; j++) {
    let rem = j;
    let k = 0;
    for (let d = 0; d < r; d++) {
      const c = Math.floor(rem / (os[d] as number));
      rem -= c * (os[d] as number);
      if (d >= off) {
        const dim = inShape[d - off] as number;
        if (dim !== 1) k += c * (is[d - off] as number);
      }
    }
    map[j] = k;
  }
  return map;
}

/** For each element of an input of `inShape`, its output element when `axes` are reduced. */
export function reduceIndex(inShape: readonly number[], axes: readonly number[]): Int32Array {
  const n = sizeOf(inShape);
  const keep = inShape.map((_, d) => !axes.includes(d));
  const outShape = inShape.map((d, i) => (keep[i] === true ? d : 1));
  const is = strides(inShape);
  const os = strides(outShape);
  const map = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    let rem = j;
    let k = 0;
    for (let d = 0; d < inShape.length; d++) {
      const c = Math.floor(rem / (is[d] as number));
      rem -= c * (is[d] as number);
      if (keep[d] === true) k += c * (os[d] as number);
    }
    map[j] = k;
  }
  return map;
}

function axesOf(attr: unknown, rank: number): number[] {
  const a = attr === undefined || attr === null ? [...Array(rank).keys()] : attr;
  const list = Array.isArray(a) ? (a as number[]) : [a as number];
  return list.map((x) => (x < 0 ? x + rank : x));
}

type Loop = (...args: unknown[]) => void;

/**
 * A loop specialized for one node: `new Function` compiles `body` afresh per node, so the calls
 * of the element functions inside it are monomorphic and V8 inlines them (one shared closure would
 * see every kernel's function and call them megamorphically, ~10x slower). Where code generation
 * is not allowed (a Content-Security-Policy without `unsafe-eval`), the generic `fallback`.
 */
function specialize(params: string, body: string, fallback: Loop): Loop {
  try {
    return new Function(`return function (${params}) { ${body} };`)() as Loop;
  } catch {
    return fallback;
  }
}

const UNARY_FWD = 'for (let i = 0; i < n; i++) yv[i] = f(xv[i], attrs);';
const UNARY_BWD = 'for (let i = 0; i < n; i++) xg[i] += yg[i] * d(xv[i], yv[i], attrs);';
const BINARY_FWD = 'for (let i = 0; i < n; i++) yv[i] = f(av[ia[i]], bv[ib[i]]);';
const BINARY_BWD = `for (let i = 0; i < n; i++) {
  const x = av[ia[i]], y = bv[ib[i]], g = yg[i], r = yv[i];
  if (gradA) ag[ia[i]] += g * da(x, y, r);
  if (gradB) bg[ib[i]] += g * db(x, y, r);
}`;

function unary(node: TapeNode, out: Slot, x: Slot): NodeSteps {
  const attrs = node.attrs;
  if (node.op === 'Cast') {
    const dtype = String(attrs.dtype);
    const diff = dtype === 'float32';
    return {
      fwd: () => {
        for (let i = 0; i < out.v.length; i++) out.v[i] = castValue(x.v[i] as number, dtype);
      },
      bwd: diff && x.rg ? () => addInto(x.g, out.g) : undefined,
    };
  }
  const op = UNARY[node.op];
  if (op === undefined) throw new UnsupportedKernelError(`kernel '${node.op}'`);
  const { f, d } = op;
  const { v: xv, g: xg } = x;
  const { v: yv, g: yg } = out;
  const n = yv.length;
  const fwd = specialize('f, xv, yv, n, attrs', UNARY_FWD, (...a: unknown[]) => {
    void a;
    for (let i = 0; i < n; i++) yv[i] = f(xv[i] as number, attrs);
  });
  const bwd =
    d === undefined
      ? undefined
      : specialize('d, xv, yv, xg, yg, n, attrs', UNARY_BWD, (...a: unknown[]) => {
          void a;
          for (let i = 0; i < n; i++) {
            xg[i] =
              (xg[i] as number) + (yg[i] as number) * d(xv[i] as number, yv[i] as number, attrs);
          }
        });
  return {
    fwd: () => fwd(f, xv, yv, n, attrs),
    bwd: bwd !== undefined && x.rg ? () => bwd(d, xv, yv, xg, yg, n, attrs) : undefined,
  };
}

function addInto(dst: Float64Array, src: Float64Array): void {
  for (let i = 0; i < dst.length; i++) dst[i] = (dst[i] as number) + (src[i] as number);
}

const zero = (): number => 0;

function binary(node: TapeNode, out: Slot, a: Slot, b: Slot, shapes: number[][]): NodeSteps {
  const op = BINARY[node.op];
  if (op === undefined) throw new UnsupportedKernelError(`kernel '${node.op}'`);
  const { f } = op;
  const da = op.da ?? zero;
  const db = op.db ?? zero;
  const ia = broadcastIndex(shapes[0] as number[], node.shape);
  const ib = broadcastIndex(shapes[1] as number[], node.shape);
  const { v: av, g: ag } = a;
  const { v: bv, g: bg } = b;
  const { v: yv, g: yg } = out;
  const n = yv.length;
  const gradA = op.da !== undefined && a.rg;
  const gradB = op.db !== undefined && b.rg;
  const fwd = specialize('f, av, bv, yv, ia, ib, n', BINARY_FWD, () => {
    for (let i = 0; i < n; i++)
      yv[i] = f(av[ia[i] as number] as number, bv[ib[i] as number] as number);
  });
  const bwd = specialize(
    'da, db, av, bv, ag, bg, yv, yg, ia, ib, n, gradA, gradB',
    BINARY_BWD,
    () => {
      for (let i = 0; i < n; i++) {
        const x = av[ia[i] as number] as number;
        const y = bv[ib[i] as number] as number;
        const g = yg[i] as number;
        const j = ia[i] as number;
        const k = ib[i] as number;
        if (gradA) ag[j] = (ag[j] as number) + g * da(x, y, yv[i] as number);
        if (gradB) bg[k] = (bg[k] as number) + g * db(x, y, yv[i] as number);
      }
    },
  );
  return {
    fwd: () => fwd(f, av, bv, yv, ia, ib, n),
    bwd:
      gradA || gradB
        ? () => bwd(da, db, av, bv, ag, bg, yv, yg, ia, ib, n, gradA, gradB)
        : undefined,
  };
}

function select(node: TapeNode, out: Slot, ins: Slot[], shapes: number[][]): NodeSteps {
  const [c, t, e] = ins as [Slot, Slot, Slot];
  const cs = shapes[0] as number[];
  const n = out.v.length;
  let ic: Int32Array;
  if (cs.length === 1 && node.shape.length > 1 && cs[0] === node.shape[0]) {
    const per = n / (cs[0] as number); // tfjs: a rank-1 condition selects rows
    ic = Int32Array.from({ length: n }, (_, i) => Math.floor(i / per));
  } else ic = broadcastIndex(cs, node.shape);
  const it = broadcastIndex(shapes[1] as number[], node.shape);
  const ie = broadcastIndex(shapes[2] as number[], node.shape);
  return {
    fwd: () => {
      for (let i = 0; i < n; i++) {
        out.v[i] =
          c.v[ic[i] as number] !== 0
            ? (t.v[it[i] as number] as number)
            : (e.v[ie[i] as number] as number);
      }
    },
    bwd:
      t.rg || e.rg
        ? () => {
            for (let i = 0; i < n; i++) {
              if (c.v[ic[i] as number] !== 0)
                t.g[it[i] as number] = (t.g[it[i] as number] as number) + (out.g[i] as number);
              else e.g[ie[i] as number] = (e.g[ie[i] as number] as number) + (out.g[i] as number);
            }
          }
        : undefined,
  };
}

function addN(out: Slot, ins: Slot[]): NodeSteps {
  return {
    fwd: () => {
      out.v.fill(0);
      for (const x of ins) addInto(out.v, x.v);
    },
    bwd: () => {
      for (const x of ins) if (x.rg) addInto(x.g, out.g);
    },
  };
}

function reduce(node: TapeNode, out: Slot, x: Slot, inShape: number[]): NodeSteps {
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
    default:
      throw new UnsupportedKernelError(`kernel '${node.op}'`);
  }
}

/** `BatchMatMul`: `out[b] = op(A[b]) op(B[b])` with broadcast batch dimensions. */
function matmul(node: TapeNode, out: Slot, a: Slot, b: Slot, shapes: number[][]): NodeSteps {
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
function softmax(node: TapeNode, out: Slot, x: Slot): NodeSteps {
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
function cumsum(node: TapeNode, out: Slot, x: Slot): NodeSteps {
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
function normalLogProb(node: TapeNode, out: Slot, ins: Slot[]): NodeSteps {
  const [x, loc, scale] = ins as [Slot, Slot, Slot];
  const n = x.v.length;
  const nl = loc.v.length;
  const ns = scale.v.length;
  const summed = node.op === NORMAL_LOG_PROB_SUM;
  return {
    fwd: () => {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        const s = scale.v[i % ns] as number;
        const z = ((x.v[i] as number) - (loc.v[i % nl] as number)) / s;
        const lp = -0.5 * z * z - Math.log(s) - HALF_LOG_2PI;
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
function gather(node: TapeNode, out: Slot, ins: Slot[]): NodeSteps {
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

/**
 * The steps of a kernel node. `shapes` are the inputs' shapes. Throws an
 * {@link UnsupportedKernelError} for a kernel the replay does not know.
 */
export function nodeSteps(node: TapeNode, out: Slot, ins: Slot[], shapes: number[][]): NodeSteps {
  if ('outputIndex' in node.attrs)
    throw new UnsupportedKernelError(`multi-output kernel '${node.op}'`);
  const op = node.op;
  if (op === 'Gather') return gather(node, out, ins);
  if (op === 'Select') return select(node, out, ins, shapes);
  if (op === 'AddN') return addN(out, ins);
  if (op === 'BatchMatMul') return matmul(node, out, ins[0] as Slot, ins[1] as Slot, shapes);
  if (op === 'Softmax') return softmax(node, out, ins[0] as Slot);
  if (op === 'Cumsum') return cumsum(node, out, ins[0] as Slot);
  if (op === NORMAL_LOG_PROB || op === NORMAL_LOG_PROB_SUM) return normalLogProb(node, out, ins);
  if (['Sum', 'Mean', 'Max', 'Min', 'Prod'].includes(op)) {
    return reduce(node, out, ins[0] as Slot, shapes[0] as number[]);
  }
  if (ins.length === 1) return unary(node, out, ins[0] as Slot);
  if (ins.length === 2) return binary(node, out, ins[0] as Slot, ins[1] as Slot, shapes);
  throw new UnsupportedKernelError(`kernel '${op}'`);
}
