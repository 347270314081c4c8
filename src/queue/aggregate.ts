/**
 * What the parent job of a flow does once its children are done: read their results from the
 * store and aggregate them — the ensemble predictive with its uncertainty report, the sweep table
 * with the best configuration, or the merged scoring metrics.
 */
import * as tf from '@tensorflow/tfjs';
import { decompose } from '../toolbox/decomposition.js';
import { buildReport, type ScoreInput } from '../toolbox/report/build.js';
import { renderReportHtml } from '../toolbox/report/html.js';
import type { UncertaintyReport } from '../toolbox/report/types.js';
import { DeepProbError } from '../utils/errors.js';
import { aggregateKey, type FlowSpec, type JobSpec, type MemberJob } from './jobs.js';
import type { ResultStore } from './result_store.js';
import type { ShardResult } from './shard_job.js';
import { mergeBlockStats, type ScoreMetrics } from './score_stats.js';
import type { MemberResult, SweepResult } from './train_jobs.js';

/** The aggregate of an ensemble (its report is the blob `report.html`, `report.json`). */
export interface EnsembleAggregate {
  kind: 'ensemble';
  members: number;
  metrics: UncertaintyReport['metrics'];
  /** OOD AUROC per uncertainty score. */
  auroc: Record<string, number>;
  /** Accuracy of each member's own predictive. */
  memberAccuracy: number[];
}

/** One row of a sweep table. */
export interface SweepRow {
  index: number;
  params: Record<string, string | number>;
  metrics: Record<string, number>;
  seconds: number;
}

/** The aggregate of a sweep: every row, sorted best first by the metric. */
export interface SweepAggregate {
  kind: 'sweep';
  metric: { name: string; goal: 'min' | 'max' };
  rows: SweepRow[];
  best: SweepRow;
}

/** The aggregate of a scoring run. */
export interface ScoreAggregate {
  kind: 'score';
  shards: number;
  metrics: ScoreMetrics;
}

/** Any aggregate. */
export type Aggregate = EnsembleAggregate | SweepAggregate | ScoreAggregate;

function need<T>(store: ResultStore, job: JobSpec): T {
  const r = store.get<T>(job.key);
  if (r === undefined) throw new DeepProbError(`job ${job.key} has no result in ${store.location}`);
  return r.value;
}

const floats = (b: Uint8Array): Float32Array =>
  new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

/** Mean of the members' predictives and the ensemble's uncertainty report. */
async function aggregateEnsemble(flow: FlowSpec, store: ResultStore): Promise<EnsembleAggregate> {
  const jobs = flow.jobs as MemberJob[];
  const results = jobs.map((j) => need<MemberResult>(store, j));
  const first = results[0] as MemberResult;
  const { numClasses: k, inCount, outCount } = first;
  const pin = jobs.map((j) => floats(store.blob(j.key, 'in.f32')));
  const pout = jobs.map((j) => floats(store.blob(j.key, 'out.f32')));
  const host = (sets: Float32Array[], n: number) =>
    tf.tidy(() => {
      const d = decompose(tf.stack(sets.map((p) => tf.tensor2d(p, [n, k]))));
      return {
        probs: d.meanProbs.dataSync() as Float32Array,
        mutual_information: d.mutualInformation.dataSync() as Float32Array,
        predictive_entropy: d.predictiveEntropy.dataSync() as Float32Array,
        expected_entropy: d.expectedEntropy.dataSync() as Float32Array,
        one_minus_max_prob: d.oneMinusMaxProb.dataSync() as Float32Array,
      };
    });
  const a = host(pin, inCount);
  const b = host(pout, outCount);
  const labels = await labelsOf(jobs[0] as MemberJob, inCount);
  const defs: [keyof typeof a & string, string, string][] = [
    [
      'mutual_information',
      'mutual information (epistemic)',
      'H[mean p] - mean H[p_m]: disagreement of the members',
    ],
    ['predictive_entropy', 'predictive entropy (total)', 'entropy of the ensemble predictive'],
    [
      'expected_entropy',
      'expected entropy (aleatoric)',
      "mean entropy of the members' predictives",
    ],
    [
      'one_minus_max_prob',
      '1 - max probability',
      'one minus the confidence of the predicted class',
    ],
  ];
  const scores: ScoreInput[] = defs.map(([key, name, description]) => ({
    key,
    name,
    description,
    inScores: a[key],
    outScores: b[key],
  }));
  const report = buildReport({
    title: `Deep ensemble of ${jobs.length}: ${first.inName} vs ${first.outName}`,
    model: { name: (jobs[0] as MemberJob).config.model, kind: `ensemble of ${jobs.length}` },
    inName: first.inName,
    outName: first.outName,
    probs: a.probs,
    numClasses: k,
    labels,
    scores,
    mcSamples: first.mcSamples,
    numBins: flow.numBins ?? 15,
  });
  const html = await renderReportHtml(report);
  const memberAccuracy = pin.map((p) => {
    let hit = 0;
    for (let i = 0; i < inCount; i++) {
      let best = 0;
      for (let j = 1; j < k; j++)
        if ((p[i * k + j] as number) > (p[i * k + best] as number)) best = j;
      if (best === labels[i]) hit++;
    }
    return hit / inCount;
  });
  const value: EnsembleAggregate = {
    kind: 'ensemble',
    members: jobs.length,
    metrics: report.metrics,
    auroc: Object.fromEntries(report.scores.map((s) => [s.key, s.ood.auroc])),
    memberAccuracy,
  };
  const enc = new TextEncoder();
  store.put(aggregateKey(flow), value, {
    'report.html': enc.encode(html),
    'report.json': enc.encode(JSON.stringify(report, null, 1)),
  });
  return value;
}

/** The test labels the members predicted (the first `count` of the dataset's test split). */
async function labelsOf(job: MemberJob, count: number): Promise<Uint8Array> {
  const { loadSplit } = await import('../app/run_data.js');
  return loadSplit(job.config, 'test', count).labels;
}

function aggregateSweep(flow: FlowSpec, store: ResultStore): SweepAggregate {
  const metric = flow.metric ?? { name: 'testNll', goal: 'min' };
  const rows: SweepRow[] = flow.jobs.map((j) => {
    const r = need<SweepResult>(store, j);
    const metrics: Record<string, number> = {};
    for (const [k, v] of Object.entries(r.last ?? {})) if (typeof v === 'number') metrics[k] = v;
    return { index: r.index, params: r.params, metrics, seconds: r.seconds };
  });
  const score = (r: SweepRow): number => {
    const v = r.metrics[metric.name];
    if (v === undefined || !Number.isFinite(v)) return Infinity;
    return metric.goal === 'min' ? v : -v;
  };
  rows.sort((x, y) => score(x) - score(y) || x.index - y.index);
  const value: SweepAggregate = { kind: 'sweep', metric, rows, best: rows[0] as SweepRow };
  store.put(aggregateKey(flow), value);
  return value;
}

function aggregateScore(flow: FlowSpec, store: ResultStore): ScoreAggregate {
  const blocks = flow.jobs.flatMap((j) => need<ShardResult>(store, j).blocks);
  const value: ScoreAggregate = {
    kind: 'score',
    shards: flow.jobs.length,
    metrics: mergeBlockStats(blocks),
  };
  store.put(aggregateKey(flow), value);
  return value;
}

/**
 * Aggregate a flow whose children are all stored (idempotent: a valid aggregate is returned as is).
 * @throws DeepProbError naming a child without a result.
 */
export async function aggregateFlow(flow: FlowSpec, store: ResultStore): Promise<Aggregate> {
  const key = aggregateKey(flow);
  if (store.check(key).state === 'valid')
    return (store.get<Aggregate>(key) as { value: Aggregate }).value;
  store.remove(key);
  if (flow.kind === 'ensemble') return aggregateEnsemble(flow, store);
  if (flow.kind === 'sweep') return aggregateSweep(flow, store);
  return aggregateScore(flow, store);
}
