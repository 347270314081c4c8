/**
 * Without the optional peer `@viz-js/viz`, SVG rendering says which package to install; the DOT
 * text still works.
 */
import { describe, expect, it, vi } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { DeepProbError } from '../../src/utils/errors.js';

vi.mock('@viz-js/viz', () => {
  throw new Error("Cannot find package '@viz-js/viz'");
});

describe('renderModelSvg without @viz-js/viz', () => {
  it('names the package and the install command', async () => {
    const model = (): void => {
      ppl.sample('a', new D.Normal(0, 1));
    };
    expect(ppl.renderModel(model)).toContain('a [label=a');
    const err = await ppl.renderModelSvg(model).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeepProbError);
    expect((err as Error).message).toMatch(
      /optional package '@viz-js\/viz'.*npm install @viz-js\/viz/,
    );
  });
});
