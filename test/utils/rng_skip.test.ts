/**
 * Jumping a Mulberry32 stream ahead: `makeRng(seed, skip)` equals drawing and dropping `skip`
 * values, and `ChainRng.fromState` resumes a chain's stream in constant time (it used to replay
 * every past draw: restoring a long MCMC run's RNG grew with the run).
 */
import { describe, expect, it } from 'vitest';
import { ChainRng } from '../../src/ppl/mcmc/rng.js';
import { makeRng } from '../../src/utils/seed.js';

describe('makeRng skip', () => {
  it('equals the stream after skip draws, for small and wrapped counts', () => {
    for (const seed of [0, 1, 12345, 2 ** 31 - 1]) {
      const g = makeRng(seed);
      const drawn: number[] = [];
      for (let i = 0; i < 300; i++) drawn.push(g());
      for (const k of [0, 1, 7, 150, 299]) {
        expect(makeRng(seed, k)(), `seed ${seed} skip ${k}`).toBe(drawn[k]);
      }
    }
    // the state's period is 2^32: skipping 2^32 + 5 draws is skipping 5
    expect(makeRng(3, 2 ** 32 + 5)()).toBe(makeRng(3, 5)());
    expect(() => makeRng(1, -1)).toThrow(/^skip: expected a non-negative integer, got -1/);
    expect(() => makeRng(1, 1.5)).toThrow(/^skip:/);
  });

  it('ChainRng.fromState continues the same normals and uniforms, in constant time', () => {
    const a = new ChainRng(42);
    for (let i = 0; i < 1001; i++) a.normal(); // odd count: a spare normal is cached
    a.uniform();
    const b = ChainRng.fromState(a.state());
    const next = (r: ChainRng): number[] => [r.normal(), r.uniform(), r.normal(), r.normal()];
    expect(next(b)).toEqual(next(a));
    expect(b.state()).toEqual(a.state());
    // a state 10^10 draws in: the replay (~20 s) ran past the test timeout
    const far = ChainRng.fromState({ seed: 7, calls: 1e10, spare: undefined });
    expect(far.uniform()).toBe(makeRng(7, 1e10)());
  });
});
