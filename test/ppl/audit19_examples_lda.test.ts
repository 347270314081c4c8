/**
 * Pyro's `lda.py` (latent Dirichlet allocation with the word topics enumerated), ported as its
 * users write it: `topics` plate of `topic_weights ~ Gamma(1/K, 1)` and `topic_words ~
 * Dirichlet(1/V)`, a `documents` plate (dim -1) of `doc_topics ~ Dirichlet(topic_weights)` and a
 * nested `words` plate (dim -2) of `word_topics ~ Categorical(doc_topics)` marked for parallel
 * enumeration and `doc_words ~ Categorical(topic_words[word_topics])` observed, the data laid out
 * `[words_per_doc, num_docs]` as Pyro's. Reference (float64): with the continuous sites fixed
 * by `condition` and an empty guide, TraceEnum_ELBO's loss is minus the log prior of the fixed
 * values minus `Σ_{w,d} log Σ_k doc_topics[d, k] topic_words[k, data[w, d]]`; `inferDiscrete`
 * at temperature 0 gives each word the topic maximizing `doc_topics[d, k] topic_words[k, w]`.
 */
import gammaln from '@stdlib/math-base-special-gammaln';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed } from '../../src/utils/seed.js';

afterEach(() => clearSeed());

const K = 3; // topics
const V = 4; // vocabulary
const DOCS = 2;
const WPD = 5; // words per document
// data[w][d]: the w-th word of document d
const DATA = [
  [0, 3],
  [1, 3],
  [0, 2],
  [1, 3],
  [2, 2],
];

function lda(data: tf.Tensor): tf.Tensor {
  const [topicWeights, topicWords] = ppl.plate('topics', K, () => [
    ppl.sample('topic_weights', new D.Gamma(1 / K, 1)),
    ppl.sample('topic_words', new D.Dirichlet(tf.fill([V], 1 / V))),
  ]);
  return ppl.plate('documents', DOCS, { dim: -1 }, () => {
    const docTopics = ppl.sample('doc_topics', new D.Dirichlet(topicWeights as tf.Tensor));
    return ppl.plate('words', WPD, { dim: -2 }, () => {
      const wordTopics = ppl.sample('word_topics', new D.Categorical({ probs: docTopics }), {
        infer: { enumerate: 'parallel' },
      });
      return ppl.sample(
        'doc_words',
        new D.Categorical({
          probs: tf.gather(topicWords as tf.Tensor, tf.cast(wordTopics, 'int32')),
        }),
        { obs: data },
      );
    });
  });
}

const TW = [0.5, 1.5, 0.8];
const TWORDS = [
  [0.6, 0.3, 0.05, 0.05],
  [0.1, 0.1, 0.4, 0.4],
  [0.25, 0.25, 0.25, 0.25],
];
const DT = [
  [0.7, 0.2, 0.1],
  [0.1, 0.6, 0.3],
];

const logGammaPdf = (x: number, a: number): number => (a - 1) * Math.log(x) - x - gammaln(a);
const logDirichlet = (x: number[], a: number[]): number =>
  gammaln(a.reduce((s, v) => s + v, 0)) -
  a.reduce((s, v) => s + gammaln(v), 0) +
  x.reduce((s, v, i) => s + ((a[i] as number) - 1) * Math.log(v), 0);

describe("Pyro's lda.py: word topics enumerated in nested plates", () => {
  const fixed = (): Record<string, tf.Tensor> => ({
    topic_weights: tf.tensor1d(TW),
    topic_words: tf.tensor2d(TWORDS),
    doc_topics: tf.tensor2d(DT),
  });

  it('TraceEnumELBO at fixed continuous sites is minus the float64 log joint with the topics summed out', () => {
    const data = tf.tensor2d(DATA, undefined, 'int32');
    const v = fixed();
    const model = ppl.condition(lda, v);
    const before = tf.memory().numTensors;
    const loss = new ppl.TraceEnumELBO({ maxPlateNesting: 2 }).loss(model, () => undefined, data);
    expect(tf.memory().numTensors).toBe(before);
    let ref = 0;
    TW.forEach((w) => (ref += logGammaPdf(w, 1 / K)));
    TWORDS.forEach(
      (row) =>
        (ref += logDirichlet(
          row,
          row.map(() => 1 / V),
        )),
    );
    DT.forEach((row) => (ref += logDirichlet(row, TW)));
    DATA.forEach((row) =>
      row.forEach((word, d) => {
        ref += Math.log(
          (DT[d] as number[]).reduce((s, p, k) => s + p * (TWORDS[k]?.[word] as number), 0),
        );
      }),
    );
    expect(loss).toBeCloseTo(-ref, 2);
    tf.dispose([data, ...Object.values(v)]);
  });

  it('inferDiscrete (temperature 0): each word its most probable topic, shape [words, docs]', () => {
    const data = tf.tensor2d(DATA, undefined, 'int32');
    const v = fixed();
    const before = tf.memory().numTensors;
    const tr = ppl
      .trace(ppl.inferDiscrete(ppl.condition(lda, v), { temperature: 0, firstAvailableDim: -3 }))
      .getTrace(data);
    const z = tr.value('word_topics').arraySync() as number[][];
    expect(tr.value('word_topics').shape).toEqual([WPD, DOCS]);
    DATA.forEach((row, w) =>
      row.forEach((word, d) => {
        const s = (DT[d] as number[]).map((p, k) => p * (TWORDS[k]?.[word] as number));
        expect(z[w]?.[d]).toBe(s.indexOf(Math.max(...s)));
      }),
    );
    tr.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([data, ...Object.values(v)]);
  });
});
