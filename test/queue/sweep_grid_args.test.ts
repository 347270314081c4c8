import { describe, expect, it } from 'vitest';
import { sweepFlow } from '../../src/queue/flows.js';
import { gridPoints, parseSweepGrid } from '../../src/queue/sweep_grid.js';
import { ArgumentError } from '../../src/utils/errors.js';

describe('a sweep grid not made by parseSweepGrid', () => {
  it('is an ArgumentError naming grid in gridPoints and sweepFlow (was a raw TypeError)', () => {
    // the grid object a user writes by hand (the file format), not the parsed grid
    const raw = { base: { epochs: 1 }, grid: { lr: [0.1, 0.01] } };
    for (const g of [raw, {}, null, { base: {}, axes: [['lr', []]], metric: {} }]) {
      expect(() => gridPoints(g as never)).toThrow(ArgumentError);
      expect(() => gridPoints(g as never)).toThrow(
        /^grid: expected a sweep grid made by parseSweepGrid/,
      );
      expect(() => sweepFlow(g as never, '/tmp/store')).toThrow(/^grid:/);
    }
    const parsed = parseSweepGrid(raw);
    expect(gridPoints(parsed).map((p) => p.params)).toEqual([{ lr: 0.1 }, { lr: 0.01 }]);
    expect(() => sweepFlow(parsed, '' as never)).toThrow(/^store: expected a directory path/);
    const flow = sweepFlow(parsed, '/tmp/store');
    expect(flow.jobs).toHaveLength(2);
  });
});
