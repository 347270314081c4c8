/**
 * Element-wise tfjs kernels in float64 for tape replay: each kernel's value `y = f(x)` (or
 * `f(a, b)`) and its partial derivatives, written from the kernels' definitions (the gradients
 * are tfjs's: e.g. `d pow(a, b)/db = y log a` for `a > 0`, else 0; `max(a, b)` sends the
 * gradient to `a` where `a >= b`). Kernels without a `d` are not differentiable (comparisons,
 * logical ops, rounding: their derivative is zero where it exists).
 */

/** An element-wise unary kernel: value, and `dy/dx` from `x` and `y`. */
export interface UnaryOp {
  f: (x: number, attrs: Record<string, unknown>) => number;
  d?: (x: number, y: number, attrs: Record<string, unknown>) => number;
}

/** An element-wise binary kernel: value and the two partial derivatives. */
export interface BinaryOp {
  f: (a: number, b: number) => number;
  da?: (a: number, b: number, y: number) => number;
  db?: (a: number, b: number, y: number) => number;
}

const SQRT_PI_2 = 2 / Math.sqrt(Math.PI);
const SELU_SCALE = 1.0507009873554805;
const SELU_ALPHA = 1.6732632423543772;

/**
 * `erf` as the tfjs kernel computes it (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7), so the
 * replay agrees with tfjs; its derivative is the exact `2 exp(-x^2) / sqrt(pi)`.
 */
function erf(x: number): number {
  const s = Math.sign(x);
  const v = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * v);
  const poly =
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t;
  return s * (1 - poly * Math.exp(-v * v));
}

/** `log(1 + exp(x))` without overflow. */
function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

const num = (v: unknown, dflt: number): number => (typeof v === 'number' ? v : dflt);
const b = (c: boolean): number => (c ? 1 : 0);

/** The unary kernels (tfjs kernel names). */
export const UNARY: Readonly<Record<string, UnaryOp>> = {
  Abs: { f: Math.abs, d: (x) => Math.sign(x) },
  Acos: { f: Math.acos, d: (x) => -1 / Math.sqrt(1 - x * x) },
  Acosh: { f: Math.acosh, d: (x) => 1 / Math.sqrt(x * x - 1) },
  Asin: { f: Math.asin, d: (x) => 1 / Math.sqrt(1 - x * x) },
  Asinh: { f: Math.asinh, d: (x) => 1 / Math.sqrt(x * x + 1) },
  Atan: { f: Math.atan, d: (x) => 1 / (1 + x * x) },
  Atanh: { f: Math.atanh, d: (x) => 1 / (1 - x * x) },
  Ceil: { f: Math.ceil },
  Cos: { f: Math.cos, d: (x) => -Math.sin(x) },
  Cosh: { f: Math.cosh, d: (x) => Math.sinh(x) },
  Elu: { f: (x) => (x > 0 ? x : Math.expm1(x)), d: (x, y) => (x > 0 ? 1 : y + 1) },
  Erf: { f: erf, d: (x) => SQRT_PI_2 * Math.exp(-x * x) },
  Exp: { f: Math.exp, d: (_x, y) => y },
  Expm1: { f: Math.expm1, d: (_x, y) => y + 1 },
  Floor: { f: Math.floor },
  Identity: { f: (x) => x, d: () => 1 },
  IsFinite: { f: (x) => b(Number.isFinite(x)) },
  IsInf: { f: (x) => b(x === Infinity || x === -Infinity) },
  IsNan: { f: (x) => b(Number.isNaN(x)) },
  LeakyRelu: {
    f: (x, a) => (x >= 0 ? x : num(a.alpha, 0.2) * x),
    d: (x, _y, a) => (x > 0 ? 1 : num(a.alpha, 0.2)),
  },
  Log: { f: Math.log, d: (x) => 1 / x },
  Log1p: { f: Math.log1p, d: (x) => 1 / (1 + x) },
  LogicalNot: { f: (x) => b(x === 0) },
  Neg: { f: (x) => -x, d: () => -1 },
  Reciprocal: { f: (x) => 1 / x, d: (_x, y) => -y * y },
  Relu: { f: (x) => (x > 0 ? x : 0), d: (x) => b(x > 0) },
  Relu6: { f: (x) => Math.min(Math.max(x, 0), 6), d: (x) => b(x > 0 && x < 6) },
  Round: { f: (x) => Math.round(x) - b(x - Math.floor(x) === 0.5 && Math.floor(x) % 2 === 0) },
  Rsqrt: { f: (x) => 1 / Math.sqrt(x), d: (_x, y) => -0.5 * y * y * y },
  Selu: {
    f: (x) => (x > 0 ? SELU_SCALE * x : SELU_SCALE * SELU_ALPHA * Math.expm1(x)),
    d: (x) => (x > 0 ? SELU_SCALE : SELU_SCALE * SELU_ALPHA * Math.exp(x)),
  },
  Sigmoid: { f: sigmoid, d: (_x, y) => y * (1 - y) },
  Sign: { f: Math.sign },
  Sin: { f: Math.sin, d: (x) => Math.cos(x) },
  Sinh: { f: Math.sinh, d: (x) => Math.cosh(x) },
  Softplus: { f: softplus, d: (x) => sigmoid(x) },
  Sqrt: { f: Math.sqrt, d: (_x, y) => 0.5 / y },
  Square: { f: (x) => x * x, d: (x) => 2 * x },
  Step: { f: (x, a) => (x > 0 ? 1 : num(a.alpha, 0)) },
  Tan: { f: Math.tan, d: (_x, y) => 1 + y * y },
  Tanh: { f: Math.tanh, d: (_x, y) => 1 - y * y },
  ClipByValue: {
    f: (x, a) =>
      Math.min(Math.max(x, num(a.clipValueMin, -Infinity)), num(a.clipValueMax, Infinity)),
    d: (x, _y, a) => b(x >= num(a.clipValueMin, -Infinity) && x <= num(a.clipValueMax, Infinity)),
  },
};

/** The binary kernels (tfjs kernel names), broadcasting as NumPy. */
export const BINARY: Readonly<Record<string, BinaryOp>> = {
  Add: { f: (x, y) => x + y, da: () => 1, db: () => 1 },
  Sub: { f: (x, y) => x - y, da: () => 1, db: () => -1 },
  Multiply: { f: (x, y) => x * y, da: (_x, y) => y, db: (x) => x },
  RealDiv: { f: (x, y) => x / y, da: (_x, y) => 1 / y, db: (x, y) => -x / (y * y) },
  Pow: {
    f: Math.pow,
    da: (x, y) => y * Math.pow(x, y - 1),
    db: (x, _y, r) => (x > 0 ? r * Math.log(x) : 0),
  },
  Maximum: { f: Math.max, da: (x, y) => b(x >= y), db: (x, y) => b(x < y) },
  Minimum: { f: Math.min, da: (x, y) => b(x <= y), db: (x, y) => b(x > y) },
  SquaredDifference: {
    f: (x, y) => (x - y) * (x - y),
    da: (x, y) => 2 * (x - y),
    db: (x, y) => -2 * (x - y),
  },
  Atan2: {
    f: Math.atan2,
    da: (x, y) => y / (x * x + y * y),
    db: (x, y) => -x / (x * x + y * y),
  },
  Mod: {
    f: (x, y) => {
      const r = x % y;
      return r !== 0 && r < 0 !== y < 0 ? r + y : r;
    },
    da: () => 1,
    db: (x, y) => -Math.floor(x / y),
  },
  FloorDiv: { f: (x, y) => Math.floor(x / y) },
  Greater: { f: (x, y) => b(x > y) },
  GreaterEqual: { f: (x, y) => b(x >= y) },
  Less: { f: (x, y) => b(x < y) },
  LessEqual: { f: (x, y) => b(x <= y) },
  Equal: { f: (x, y) => b(x === y) },
  NotEqual: { f: (x, y) => b(x !== y) },
  LogicalAnd: { f: (x, y) => b(x !== 0 && y !== 0) },
  LogicalOr: { f: (x, y) => b(x !== 0 || y !== 0) },
};

/** `Cast` to `dtype`: `int32` truncates toward zero, `bool` tests `!= 0`. */
export function castValue(x: number, dtype: string): number {
  if (dtype === 'int32') return Math.trunc(x) | 0;
  if (dtype === 'bool') return b(x !== 0);
  return x;
}
