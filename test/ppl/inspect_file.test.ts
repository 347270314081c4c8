/**
 * `renderModelToFile` (deepprob/node): DOT or SVG by the file's extension, checked before the
 * model runs.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { renderModelToFile } from '../../src/node.js';
import { expectBadInput } from '../helpers.js';

const model = (data: tf.Tensor): void => {
  const m = ppl.sample('m', new D.Normal(0, 1));
  const sd = ppl.sample('sd', new D.LogNormal(m, 1));
  ppl.plate('N', data.shape[0], () => ppl.sample('obs', new D.Normal(m, sd), { obs: data }));
};

describe('renderModelToFile', () => {
  it('writes DOT for .dot/.gv and an SVG for .svg', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'render-model-'));
    const data = tf.tensor1d([0.1, 0.4, -0.2]);
    try {
      const before = tf.memory().numTensors;
      const dot = await renderModelToFile(model, [data], join(dir, 'm.dot'));
      const gv = await renderModelToFile(model, [data], join(dir, 'sub', 'm.gv'), {
        renderDistributions: true,
      });
      const svg = await renderModelToFile(model, [data], join(dir, 'm.svg'));
      expect(tf.memory().numTensors).toBe(before);
      expect(readFileSync(join(dir, 'm.dot'), 'utf8')).toBe(dot);
      expect(dot).toBe(ppl.renderModel(model, [data]));
      expect(readFileSync(join(dir, 'sub', 'm.gv'), 'utf8')).toBe(gv);
      expect(gv).toContain('obs ~ Normal');
      const text = readFileSync(join(dir, 'm.svg'), 'utf8');
      expect(text).toBe(svg);
      expect(text).toMatch(/<svg[\s\S]*<\/svg>\s*$/);
      for (const n of ['m', 'sd', 'obs']) expect(text).toContain(`<title>${n}</title>`);
    } finally {
      data.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('refuses another extension before running the model', async () => {
    let ran = false;
    const spy = (): void => {
      ran = true;
    };
    await expectBadInput({
      call: 'a .png file',
      run: () => renderModelToFile(spy, [], join(tmpdir(), 'm.png')),
      arg: 'filename',
      message: /\.dot, \.gv, \.svg/,
    });
    await expectBadInput({
      call: 'an unknown option',
      run: () => renderModelToFile(spy, [], join(tmpdir(), 'x.dot'), { view: true } as never),
      arg: 'view',
    });
    expect(ran).toBe(false);
    expect(existsSync(join(tmpdir(), 'x.dot'))).toBe(false);
  });
});
