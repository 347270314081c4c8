/**
 * Conformance row of `StableWithLogProb` (Pyro's): a batch of a Gaussian (`alpha = 2`) and a
 * Cauchy (`alpha = 1`, `beta = 0`) stable law, whose densities are @stdlib's Normal and Cauchy.
 */
import normalRef from '@stdlib/stats-base-dists-normal';
import cauchyRef from '@stdlib/stats-base-dists-cauchy';
import { distributions } from '../../src/index.js';
import { CASES } from './cases.js';

const d = distributions;
type Fn = (...args: number[]) => number;
const fn = (mod: object, name: string): Fn => (mod as Record<string, Fn>)[name] as Fn;
const ST_X = [
  [0.2, -1],
  [3.5, 4],
  [-2, -30],
];
CASES.push({
  name: 'StableWithLogProb',
  make: () => new d.StableWithLogProb([2, 1], [0.3, 0], [1.5, 2], [0.7, -1]),
  points: ST_X,
  logProb: ST_X.map(([a, b]) => [
    fn(normalRef, 'logpdf')(a!, 0.7, Math.SQRT2 * 1.5),
    fn(cauchyRef, 'logpdf')(b!, -1, 2),
  ]),
  mean: [0.7, NaN],
  variance: [2 * 1.5 * 1.5, Infinity],
  undefinedMethods: ['mode', 'cdf', 'entropy'],
  heavyTailed: true,
  fd: {
    theta: [1.5, 0.4, 1.2, 0.3],
    build: ([a, b, s, m]) => new d.StableWithLogProb(a!, b!, s!, m!),
  },
  rtol: 2e-5,
  atol: 2e-6,
  bad: [
    [() => new d.StableWithLogProb(0, 0), /stability/],
    [() => new d.StableWithLogProb(1.5, -2), /skew/],
    [() => new d.StableWithLogProb(1.5, 0, -1), /scale/],
  ],
});
