/**
 * Audit 19: a binary classifier's sigmoid samples `[S, N, 1]` (or a `[N, 1]` column) given to the
 * decomposition or conformal functions were refused as 'row 0 sums to 0.9', which does not say
 * what to do. The `ArgumentError` naming `probs` now says how to give both classes.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, it } from 'vitest';
import { toolbox } from '../../src/index.js';
import { expectBadInput } from '../helpers.js';

describe('audit19 one probability column: the error names probs and the fix', () => {
  it('decomposition of [S, N, 1] sigmoid samples and conformal calibration of a [N, 1] column', async () => {
    const hint =
      /sums to 0\.(9|8999).*one column: a binary classifier's p\(y = 1\)\? give both classes/;
    const calls: [string, (s: tf.Tensor3D) => unknown][] = [
      ['predictiveEntropy', (s) => toolbox.predictiveEntropy(s)],
      ['mutualInformation', (s) => toolbox.mutualInformation(s)],
      ['decompose', (s) => toolbox.decompose(s)],
    ];
    for (const [name, f] of calls) {
      await expectBadInput({
        call: `${name} of [S, N, 1] samples`,
        run: () => {
          const s = tf.tensor3d([
            [[0.9], [0.2]],
            [[0.7], [0.4]],
          ]);
          try {
            return f(s);
          } finally {
            s.dispose();
          }
        },
        arg: 'probs',
        message: hint,
      });
    }
    await expectBadInput({
      call: 'calibrateConformal of a [N, 1] column',
      run: () => toolbox.calibrateConformal([[0.9], [0.2]], [1, 0]),
      arg: 'probs',
      message: hint,
    });
  });
});
