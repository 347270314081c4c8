import { describe, expect, it } from 'vitest';
import { renderSvg, reliabilitySpec } from '../../src/toolbox/report/charts.js';
import '../../src/node.js';

const bins = [
  { lower: 0, upper: 0.5, count: 3, accuracy: 0.33, confidence: 0.4 },
  { lower: 0.5, upper: 1, count: 7, accuracy: 0.86, confidence: 0.8 },
];

describe('report charts leave no globals behind', () => {
  it('importing deepprob/node and rendering a chart leaves JSON.stringify of a Set as "{}"', async () => {
    expect(Object.getOwnPropertyDescriptor(Set.prototype, 'toJSON')).toBeUndefined();
    expect(JSON.stringify(new Set([1, 2]))).toBe('{}');
    const svg = await renderSvg(reliabilitySpec(bins, 0.05));
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('rect');
    expect(Object.getOwnPropertyDescriptor(Set.prototype, 'toJSON')).toBeUndefined();
    expect(JSON.stringify({ s: new Set(['a']) })).toBe('{"s":{}}');
  });

  it("keeps a program's own Set.prototype.toJSON through rendering", async () => {
    const own = function (this: Set<unknown>): unknown[] {
      return [...this];
    };
    Object.defineProperty(Set.prototype, 'toJSON', {
      value: own,
      writable: true,
      configurable: true,
    });
    try {
      const a = await renderSvg(reliabilitySpec(bins, 0.05));
      const b = await renderSvg(reliabilitySpec(bins, 0.05));
      expect(a).toBe(b);
      expect(JSON.stringify(new Set([1, 2]))).toBe('[1,2]');
    } finally {
      Reflect.deleteProperty(Set.prototype, 'toJSON');
    }
  });
});
