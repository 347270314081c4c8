/**
 * Replay kernels: for one recorded node, a forward step computing its float64 values from its
 * inputs' and a backward step adding `d(out)/d(input)^T g_out` to its inputs' gradients
 * (reverse-mode). Buffers are preallocated views; steps allocate nothing. The other kernels'
 * steps are in `structural.ts`.
 *
 * Supported: the element-wise kernels of `elementwise.ts` with NumPy broadcasting, `Cast`,
 * `Select`, `AddN`, the reductions `Sum`, `Mean`, `Max`, `Min`, `Prod` (`axis`, `keepDims`),
 * `BatchMatMul` (batch broadcasting, transposes), `Softmax` (last axis), `Cumsum`, deepprob's fused Normal
 * log-density kernels, element maps (`Gather` nodes, see `program.ts`), and `GatherV2` / `OneHot`
 * with indices computed from the inputs (the Gibbs kernels' discrete values).
 */
import { NORMAL_LOG_PROB, NORMAL_LOG_PROB_SUM } from '../../../backend/kernels/normal.js';
import { UnsupportedKernelError } from './errors.js';
import { broadcastIndex } from './indexing.js';
import {
  cumsum,
  gather,
  gatherIndexed,
  matmul,
  normalLogProb,
  oneHot,
  reduce,
  softmax,
} from './structural.js';
import { BINARY, UNARY, castValue } from './elementwise.js';
import type { TapeNode } from './program.js';

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

/**
 * The steps of a kernel node. `shapes` are the inputs' shapes. Throws an
 * {@link UnsupportedKernelError} for a kernel the replay does not know.
 */
export function nodeSteps(node: TapeNode, out: Slot, ins: Slot[], shapes: number[][]): NodeSteps {
  if ('outputIndex' in node.attrs)
    throw new UnsupportedKernelError(`multi-output kernel '${node.op}'`);
  const op = node.op;
  if (op === 'Gather') return gather(node, out, ins);
  if (op === 'GatherV2') return gatherIndexed(node, out, ins, shapes);
  if (op === 'OneHot') return oneHot(node, out, ins[0] as Slot);
  if (op === 'Select') return select(node, out, ins, shapes);
  if (op === 'AddN') return addN(out, ins);
  if (op === 'BatchMatMul') return matmul(node, out, ins[0] as Slot, ins[1] as Slot, shapes);
  if (op === 'Softmax') return softmax(node, out, ins[0] as Slot);
  if (op === 'Cumsum') return cumsum(node, out, ins[0] as Slot);
  if (op === NORMAL_LOG_PROB || op === NORMAL_LOG_PROB_SUM) return normalLogProb(node, out, ins);
  if (['Sum', 'Mean', 'Max', 'Min', 'Prod', 'All', 'Any', 'ArgMax', 'ArgMin'].includes(op)) {
    return reduce(node, out, ins[0] as Slot, shapes[0] as number[]);
  }
  if (ins.length === 1) return unary(node, out, ins[0] as Slot);
  if (ins.length === 2) return binary(node, out, ins[0] as Slot, ins[1] as Slot, shapes);
  throw new UnsupportedKernelError(`kernel '${op}'`);
}

export { UnsupportedKernelError };
