import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sweepFlow } from '../../src/queue/flows.js';
import { gridPoints, parseSweepGrid, readSweepGrid } from '../../src/queue/sweep_grid.js';
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

describe("a sweep grid's data options are checked at submit", () => {
  const withFile = (doc: unknown, fn: (path: string) => void): void => {
    const dir = mkdtempSync(join(tmpdir(), 'deepprob-grid-'));
    try {
      const path = join(dir, 'sweep.json');
      writeFileSync(path, JSON.stringify(doc));
      fn(path);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('a bad base.normalize is refused naming the key and the file (the workers failed on it)', () => {
    withFile({ base: { normalize: 'imagenet' }, grid: { lr: [0.1] } }, (path) => {
      expect(() => readSweepGrid(path)).toThrow(
        `base.normalize: expected one of unit, mnist, fashion-mnist, cifar10, cifar100, none, got "imagenet" (in ${path})`,
      );
    });
    withFile({ base: { normalize: 'none', dataDir: ' ' }, grid: { lr: [0.1] } }, (path) => {
      expect(() => readSweepGrid(path)).toThrow(
        `base.dataDir: expected a directory path, got "" (in ${path})`,
      );
    });
  });

  it("a relative base.dataDir is resolved in the submitter's directory, in every job", () => {
    const grid = parseSweepGrid({ base: { dataDir: 'data/mnist' }, grid: { lr: [0.1, 0.2] } });
    const flow = sweepFlow(grid, '/tmp/store');
    for (const j of flow.jobs) {
      expect(j.kind === 'sweep' && j.config.dataDir).toBe(resolve('data/mnist'));
    }
    const abs = parseSweepGrid({ base: { dataDir: '/srv/data' }, grid: { lr: [0.1] } });
    expect(abs.base.dataDir).toBe('/srv/data');
  });
});
