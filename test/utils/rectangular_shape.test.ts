import { describe, expect, it } from 'vitest';
import { rectangularShape } from '../../src/utils/tensor.js';

describe('rectangularShape', () => {
  it('gives the shape of rectangular nested arrays and undefined for ragged ones', () => {
    expect(rectangularShape(true)).toEqual([]);
    expect(rectangularShape([])).toEqual([0]);
    expect(rectangularShape([[]])).toEqual([1, 0]);
    expect(rectangularShape([true, false])).toEqual([2]);
    expect(
      rectangularShape([
        [[true], [false]],
        [[true], [true]],
      ]),
    ).toEqual([2, 2, 1]);
    // ragged rows, and rows mixing arrays and scalars (tf.tensor would read these wrongly)
    expect(rectangularShape([[true, false], [true]])).toBeUndefined();
    expect(rectangularShape([[true], [true, false]])).toBeUndefined();
    expect(rectangularShape([true, [true, false]])).toBeUndefined();
    expect(rectangularShape([[true, false], true])).toBeUndefined();
    expect(rectangularShape([[[true]], [[true, false]]])).toBeUndefined();
  });
});
