import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ppl } from '../../src/index.js';
import { loadParamStore, saveParamStore } from '../../src/ppl/param_store_file.js';

afterEach(() => {
  ppl.clearParamStore();
});

describe('param store files (deepprob/node)', () => {
  it('saves JSON + weights atomically and loads them back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ppl-store-'));
    try {
      const store = ppl.getParamStore();
      store.set('loc', [0.5, -1.25]);
      store.set('scale', [[0.3, 0.7]], ppl.constraints.positive);
      store.set(
        'L',
        [
          [0.4, 0],
          [0.1, 0.9],
        ],
        ppl.constraints.lowerCholesky,
      );
      const file = join(dir, 'fit.json');
      saveParamStore(file);
      expect(readdirSync(dir).sort()).toEqual(['fit.json', 'fit.weights.bin']);
      store.clear();
      loadParamStore(file);
      expect(store.value('loc')).toBeAllclose([0.5, -1.25]);
      expect(store.value('scale')).toBeAllclose([[0.3, 0.7]], { rtol: 1e-5 });
      expect(store.value('L')).toBeAllclose(
        [
          [0.4, 0],
          [0.1, 0.9],
        ],
        { rtol: 1e-5, atol: 1e-6 },
      );
      expect(store.constraintOf('scale').kind).toBe('positive');
      expect(() => loadParamStore(join(dir, 'missing.json'))).toThrow(/path/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
