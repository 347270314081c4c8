/**
 * Audit 18: conformal options that are not numbers. A string `alpha: '0.1'` (a value read from a
 * form or a CLI flag) was refused as 'expected a number in (0, 1), got 0.1', which reads as if
 * 0.1 were out of range; the message now says it got a string. Edge values 0 and 1 and NaN are
 * refused by name; a calibration set too small for the level (`n < 1/alpha - 1`) gives every class.
 */
import { describe, expect, it } from 'vitest';
import { toolbox } from '../../src/index.js';
import { expectBadInput } from '../helpers.js';

const { calibrateConformal, conformalSets } = toolbox;

describe('audit18 conformal options', () => {
  const probs = [
    [0.7, 0.2, 0.1],
    [0.1, 0.6, 0.3],
    [0.2, 0.3, 0.5],
  ];
  const labels = [0, 2, 2];

  it('alpha 0, 1, NaN, a string; lambda and kReg as strings: refused naming them', async () => {
    const cases: [string, Record<string, unknown>, string, RegExp][] = [
      ['alpha 0', { alpha: 0 }, 'alpha', /\(0, 1\), got 0$/],
      ['alpha 1', { alpha: 1 }, 'alpha', /\(0, 1\), got 1$/],
      ['alpha NaN', { alpha: NaN }, 'alpha', /got NaN/],
      ['alpha a string', { alpha: '0.1' }, 'alpha', /got the string '0.1'/],
      ['lambda a string', { score: 'raps', lambda: '0.01' }, 'lambda', /got the string '0.01'/],
      ['kReg a string', { score: 'raps', kReg: '2' }, 'kReg', /got the string '2'/],
    ];
    for (const [call, o, arg, message] of cases) {
      await expectBadInput({ call, run: () => calibrateConformal(probs, labels, o), arg, message });
    }
  });

  it('n = 3 calibration rows at alpha 0.1 (n < 1/alpha - 1): qhat = Infinity, every class', () => {
    for (const score of ['lac', 'aps', 'raps'] as const) {
      for (const randomized of [true, false]) {
        const cal = calibrateConformal(probs, labels, { alpha: 0.1, score, randomized, seed: 1 });
        expect(cal.qhat).toBe(Infinity);
        const { sets, meanSize } = conformalSets([[0.98, 0.01, 0.01]], cal, undefined, 2);
        expect([...sets[0]!].sort()).toEqual([0, 1, 2]);
        expect(meanSize).toBe(3);
      }
    }
    // n = 9 at alpha 0.1: ceil(10 * 0.9) = 9 <= 9, a finite quantile (the largest score)
    const nine = [...probs, ...probs, ...probs];
    const cal = calibrateConformal(nine, [...labels, ...labels, ...labels], {
      alpha: 0.1,
      score: 'lac',
    });
    expect(cal.qhat).toBeCloseTo(1 - 0.3, 12);
  });
});
