/**
 * Audit of issues 2 and 14 (session 16): bijectors as a TFP user probes them — round trips at
 * ordinary and extreme inputs, log-determinants against float64 central differences of the
 * scalar map, `inverseLogDetJacobian(y) = -forwardLogDetJacobian(f^{-1}(y))`, composition order
 * of `Chain` / `Invert`, and bad parameters (ArgumentError naming the argument, nothing left).
 */
import { describe, expect, it } from 'vitest';
import { bijectors } from '../../src/index.js';
import { expectBadInput, expectNoLeak } from '../helpers.js';

const b = bijectors;
type Bij = bijectors.Bijector;

interface Row {
  name: string;
  make: () => Bij;
  /** float64 forward map of a scalar. */
  f: (x: number) => number;
  xs: number[];
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const softplus = (x: number): number => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

const ROWS: Row[] = [
  { name: 'Exp', make: () => new b.Exp(), f: Math.exp, xs: [-20, -1, 0, 3, 40] },
  { name: 'Sigmoid', make: () => new b.Sigmoid(), f: sigmoid, xs: [-15, -2, 0, 1.5, 9] },
  { name: 'Softplus', make: () => new b.Softplus(), f: softplus, xs: [-15, -2, 0, 1.5, 30] },
  {
    name: 'Softplus(sharpness 3)',
    make: () => new b.Softplus(3),
    f: (x) => softplus(3 * x) / 3,
    xs: [-4, -0.5, 0, 2, 10],
  },
  {
    name: 'ScalarAffine(-2.5, 1)',
    make: () => new b.ScalarAffine(-2.5, 1),
    f: (x) => -2.5 * x + 1,
    xs: [-3, 0, 7],
  },
  {
    name: 'PowerTransform(0.5)',
    make: () => new b.PowerTransform(0.5),
    f: (x) => Math.pow(1 + 0.5 * x, 2),
    xs: [-1.5, -0.5, 0, 3, 50],
  },
  {
    name: 'PowerTransform(0) = Exp',
    make: () => new b.PowerTransform(0),
    f: Math.exp,
    xs: [-3, 0, 2],
  },
  {
    name: 'GumbelCDF(1, 2)',
    make: () => new b.GumbelCDF(1, 2),
    f: (x) => Math.exp(-Math.exp(-(x - 1) / 2)),
    xs: [-2, 0, 1, 4, 10],
  },
  { name: 'Tanh', make: () => new b.Tanh(), f: Math.tanh, xs: [-4, -0.5, 0, 0.3, 5] },
  {
    name: 'Invert(Exp) = log',
    make: () => new b.Invert(new b.Exp()),
    f: Math.log,
    xs: [1e-6, 0.3, 1, 50],
  },
];

function fdLogDet(f: (x: number) => number, x: number): number {
  const h = 1e-5 * (Math.abs(x) || 1);
  return Math.log(Math.abs((f(x + h) - f(x - h)) / (2 * h)));
}

describe('scalar bijectors against float64', () => {
  for (const row of ROWS) {
    it(`${row.name}: forward, inverse round trip, log-dets vs central differences`, () => {
      const bij = row.make();
      const y = expectNoLeak(() => bij.forward(row.xs));
      row.xs.forEach((x, i) => {
        const ref = row.f(x);
        expect(Math.abs((y[i] as number) - ref), `f(${x})`).toBeLessThan(
          2e-6 * Math.max(1, Math.abs(ref)),
        );
      });
      const ld = expectNoLeak(() => bij.forwardLogDetJacobian(row.xs));
      row.xs.forEach((x, i) => {
        const ref = fdLogDet(row.f, x);
        expect(Math.abs((ld[i] as number) - ref), `logdet at ${x}`).toBeLessThan(
          1e-4 * Math.max(1, Math.abs(ref)),
        );
      });
      // round trip where the forward value keeps the input's information in float32
      const xBack = expectNoLeak(() => bij.inverse(y));
      row.xs.forEach((x, i) => {
        const yi = y[i] as number;
        // conditioning: |dx| ~ eps |y| / |f'(x)|
        const tol = 2e-6 * (Math.abs(yi) / Math.exp(fdLogDet(row.f, x)) + Math.abs(x) + 1e-3);
        if (Number.isFinite(tol))
          expect(Math.abs((xBack[i] as number) - x), `inverse at ${x}`).toBeLessThan(tol * 10);
      });
      const ild = expectNoLeak(() => bij.inverseLogDetJacobian(y));
      ild.forEach((v, i) =>
        expect(Math.abs(v + (ld[i] as number))).toBeLessThan(
          1e-3 * Math.max(1, Math.abs(ld[i] as number)),
        ),
      );
      bij.dispose();
    });
  }
});

describe('composition and inversion', () => {
  it('Chain([Exp, ScalarAffine(2, 1)]) is exp(2x + 1); its log-det is the sum; Invert swaps', () => {
    const e = new b.Exp();
    const a = new b.ScalarAffine(2, 1);
    const c = new b.Chain([e, a]);
    const xs = [-1, 0, 0.5];
    const y = expectNoLeak(() => c.forward(xs));
    xs.forEach((x, i) =>
      expect(Math.abs((y[i] as number) - Math.exp(2 * x + 1))).toBeLessThan(
        1e-5 * Math.exp(2 * x + 1),
      ),
    );
    const ld = expectNoLeak(() => c.forwardLogDetJacobian(xs));
    xs.forEach((x, i) => expect(ld[i]).toBeCloseTo(Math.log(2) + 2 * x + 1, 5));
    const inv = new b.Invert(c);
    const back = expectNoLeak(() => inv.forward(y));
    xs.forEach((x, i) => expect(back[i]).toBeCloseTo(x, 5));
    const ild = expectNoLeak(() => inv.forwardLogDetJacobian(y));
    ild.forEach((v, i) => expect(v).toBeCloseTo(-(ld[i] as number), 5));
    c.dispose();
    e.dispose();
    a.dispose();
  });
  it('an empty Chain is the identity with log-det 0', () => {
    const c = new b.Chain([]);
    expect(expectNoLeak(() => c.forward([1, -2]))).toEqual([1, -2]);
    expect(expectNoLeak(() => c.forwardLogDetJacobian([1, -2]))).toEqual([0, 0]);
  });
  it('StickBreaking: simplex output, round trip, log-det vs float64 numerical Jacobian of K-1 coords', () => {
    const sb = new b.StickBreaking();
    const x = [0.3, -1.2, 2];
    const y = expectNoLeak(() => sb.forward(x));
    expect(y.length).toBe(4);
    expect(Math.abs(y.reduce((s, v) => s + v, 0) - 1)).toBeLessThan(1e-6);
    y.forEach((v) => expect(v).toBeGreaterThan(0));
    const back = expectNoLeak(() => sb.inverse(y));
    x.forEach((v, i) => expect(back[i]).toBeCloseTo(v, 4));
    // numerical Jacobian of the first K-1 outputs in float64 through the tensor forward (float32) is
    // too coarse; use the stick-breaking formula in float64 (Pyro's: offset log(K - i))
    const f64 = (z: number[]): number[] => {
      const k = z.length + 1;
      const out: number[] = [];
      let rest = 1;
      z.forEach((zi, i) => {
        const s = sigmoid(zi - Math.log(k - 1 - i));
        out.push(rest * s);
        rest *= 1 - s;
      });
      return out;
    };
    const ref = f64(x);
    ref.forEach((v, i) => expect(Math.abs((y[i] as number) - v)).toBeLessThan(1e-6));
    const h = 1e-6;
    const jac = x.map((_, j) => {
      const up = [...x];
      const dn = [...x];
      up[j] = (up[j] as number) + h;
      dn[j] = (dn[j] as number) - h;
      const fu = f64(up);
      const fd = f64(dn);
      return fu.map((v, i) => (v - (fd[i] as number)) / (2 * h));
    });
    // det of the 3x3 (rows: outputs, cols: inputs)
    const m = (i: number, j: number): number => (jac[j] as number[])[i] as number;
    const det =
      m(0, 0) * (m(1, 1) * m(2, 2) - m(1, 2) * m(2, 1)) -
      m(0, 1) * (m(1, 0) * m(2, 2) - m(1, 2) * m(2, 0)) +
      m(0, 2) * (m(1, 0) * m(2, 1) - m(1, 1) * m(2, 0));
    const [ld] = expectNoLeak(() => sb.forwardLogDetJacobian(x));
    expect(Math.abs((ld as number) - Math.log(Math.abs(det)))).toBeLessThan(1e-4);
  });
});

describe('bijector bad parameters and inputs', () => {
  it('ScalarAffine scale 0 / NaN, Softplus sharpness <= 0, PowerTransform power < 0, GumbelCDF scale <= 0', async () => {
    await expectBadInput({ call: 'affine 0', run: () => new b.ScalarAffine(0, 1), arg: 'scale' });
    await expectBadInput({
      call: 'affine NaN',
      run: () => new b.ScalarAffine(NaN, 1),
      arg: 'scale',
    });
    await expectBadInput({ call: 'softplus', run: () => new b.Softplus(0), arg: 'sharpness' });
    await expectBadInput({ call: 'power', run: () => new b.PowerTransform(-1), arg: 'power' });
    await expectBadInput({ call: 'gumbel', run: () => new b.GumbelCDF(0, -1), arg: 'scale' });
    await expectBadInput({
      call: 'chain of non-bijectors',
      run: () => new b.Chain([{} as unknown as Bij]),
      arg: /bijectors/,
    });
  });
});
