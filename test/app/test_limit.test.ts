import { describe, expect, it } from 'vitest';
import { proportionalTestLimit } from '../../src/app/index.js';

describe('deepprob train --limit validates on a proportionate test subset', () => {
  it('takes the same fraction of the test set, rounded up, at least one image', () => {
    expect(proportionalTestLimit(2000, 60000, 10000)).toBe(334); // ceil(333.33)
    expect(proportionalTestLimit(6000, 60000, 10000)).toBe(1000);
    expect(proportionalTestLimit(1, 60000, 10000)).toBe(1);
    expect(proportionalTestLimit(50000, 50000, 10000)).toBeUndefined(); // the whole set
    expect(proportionalTestLimit(70000, 60000, 10000)).toBeUndefined();
    expect(proportionalTestLimit(undefined, 60000, 10000)).toBeUndefined();
  });
});
