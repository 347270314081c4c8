/**
 * The documented ranges of numeric CLI options (#16): each is enforced when the command line is
 * parsed, shown by `--help`, listed in docs/guides/cli.md, and applied by `checkConfig`.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { checkConfig, TRAIN_DEFAULTS } from '../../src/app/index.js';
import { OPTION_RANGES, rangeText, type RangedOption } from '../../src/app/option_ranges.js';
import { buildProgram } from '../../src/cli/main.js';
import { ranged } from '../../src/cli/options.js';

let err: string[] = [];
beforeEach(() => {
  err = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    err.push(String(s));
    return true;
  });
});
afterEach(() => vi.restoreAllMocks());

describe('numeric option ranges', () => {
  it('every range is in docs/guides/cli.md', () => {
    const doc = readFileSync('docs/guides/cli.md', 'utf8');
    for (const k of Object.keys(OPTION_RANGES) as RangedOption[]) {
      expect(doc, k).toContain(`| \`--${k}\` | \`${rangeText(k)}\` |`);
    }
  });

  it('the parsers accept the bounds and refuse just outside them', () => {
    for (const k of Object.keys(OPTION_RANGES) as RangedOption[]) {
      const r = OPTION_RANGES[k] as {
        min: number;
        max: number;
        integer?: boolean;
        openMin?: boolean;
        openMax?: boolean;
      };
      const p = ranged(k);
      if (r.openMin !== true) expect(p(String(r.min)), k).toBe(r.min);
      else expect(() => p(String(r.min)), k).toThrow(/expected/);
      if (r.openMax !== true) expect(p(String(r.max)), k).toBe(r.max);
      else expect(() => p(String(r.max)), k).toThrow(/expected/);
      const below = r.integer === true ? r.min - 1 : r.min - Math.max(1e-9, Math.abs(r.min) * 1e-3);
      expect(() => p(String(below)), `${k} ${below}`).toThrow(/expected (an integer|a number) in/);
      expect(() => p(String(r.max * 1.01 + 1)), k).toThrow(/expected/);
      for (const v of ['', 'abc', 'NaN', 'Infinity', '1e400'])
        expect(() => p(v), `${k} '${v}'`).toThrow(/expected/);
      if (r.integer === true) expect(() => p(String(r.min + 0.5)), k).toThrow(/an integer/);
    }
  });

  it("the issue's values are refused at parse time, naming the option", async () => {
    const cases = [
      ['--prior-sigma', '1e300'],
      ['--prior-sigma', '1e-300'],
      ['--rho-init', '-1e10'],
      ['--kl-weight', '1e308'],
      ['--prior-mu', '1e30'],
      ['--input-size', '100000'],
      ['--lr', '0'],
      ['--epochs', '0'],
      ['--batch-size', '1e6'],
      ['--mc-samples', '-3'],
      ['--seed', '-1'],
      ['--seed', '1.5'],
    ];
    for (const [opt, v] of cases) {
      const program = buildProgram().exitOverride();
      for (const c of program.commands) c.exitOverride();
      await expect(
        program.parseAsync(['node', 'deepprob', 'train', opt as string, v as string]),
        `${opt} ${v}`,
      ).rejects.toThrow(new RegExp(`option '${opt} <[\\w|]+>' argument '${v}' is invalid`));
      expect(err.join('')).toMatch(/expected (an integer|a number|a number or)/);
      err = [];
    }
  });

  it('--help shows the ranges', () => {
    const h =
      buildProgram()
        .commands.find((c) => c.name() === 'train')
        ?.helpInformation() ?? '';
    expect(h.replace(/\s+/g, ' ')).toContain('range [0.001, 100]');
    expect(h.replace(/\s+/g, ' ')).toContain('range [1, 100000] integer');
  });

  it('checkConfig applies the same ranges to API and checkpoint configurations', () => {
    const base = { ...TRAIN_DEFAULTS, model: 'lenet5', out: 'x' };
    expect(() => checkConfig(base)).not.toThrow();
    expect(() => checkConfig({ ...base, priorSigma: 1e300 })).toThrow(
      /^priorSigma: expected a number in \[0.001, 100\]/,
    );
    expect(() => checkConfig({ ...base, rhoInit: -1e10 })).toThrow(/^rhoInit:/);
    expect(() => checkConfig({ ...base, klWeight: 1e308 })).toThrow(
      /^klWeight: expected a number in \[0, 1000\]/,
    );
    expect(() => checkConfig({ ...base, inputSize: 100000 })).toThrow(/^inputSize:/);
    expect(() => checkConfig({ ...base, seed: NaN })).toThrow(/^seed:/);
    expect(() => checkConfig({ ...base, epochs: 0 })).toThrow(/^epochs:/);
  });
});
