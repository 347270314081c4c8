// Session 17: the float32 epsilon is defined once (src/utils/float32.ts), bit-identical to the
// five copies it replaces.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { distributions as d } from '../../src/index.js';
import { FLOAT32_EPS } from '../../src/utils/float32.js';

describe('float32 epsilon', () => {
  it('is 2^-23, and PROBS_EPS is the same number', () => {
    expect(FLOAT32_EPS).toBe(1.1920928955078125e-7);
    expect(Math.fround(1 + FLOAT32_EPS)).toBeGreaterThan(1);
    expect(Math.fround(1 + FLOAT32_EPS / 2)).toBe(1);
    expect(d.PROBS_EPS).toBe(FLOAT32_EPS);
  });
  it('is written once, in src/utils/float32.ts', () => {
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.ts')) files.push(p);
      }
    };
    walk('src');
    const literal = /1\.1920928955078125e-7|1\.1920929e-7|2 \*\* -23|Math\.pow\(2, -23\)/;
    const offenders = files.filter(
      (f) => !f.endsWith(join('utils', 'float32.ts')) && literal.test(readFileSync(f, 'utf8')),
    );
    expect(offenders).toEqual([]);
  });
});
