/**
 * The model manifest `models/manifest.json` written by `scripts/build-web-models.ts`: which
 * checkpoints the page loads, how their inputs are preprocessed (the training transform), and the
 * "I don't know" thresholds calibrated on MNIST test images.
 */

/** How a model's output is read. */
export type ModelKind = 'bayes' | 'plain' | 'evidential';

/** Thresholds above which the page says "I don't know". */
export interface Thresholds {
  /** Predictive entropy (nats). */
  entropy: number;
  /** Mutual information (nats), Bayesian model only. */
  epistemic?: number;
  /** Evidential uncertainty `u = K / S`, evidential model only. */
  u?: number;
  /** How they were chosen, shown on the page. */
  note: string;
}

/** One model of the manifest. */
export interface ModelEntry {
  id: string;
  title: string;
  kind: ModelKind;
  /** Path of `model.json`, relative to `models/`. */
  path: string;
  /** Training input transform (deepprob `data` transform options). */
  transform: { normalize?: string; size?: number; resize?: 'pad' | 'bilinear' };
  /** Evidence function of the evidential model. */
  evidence?: 'relu' | 'softplus' | 'exp';
  /** Whether the network ends in a softmax (else it outputs logits / evidence inputs). */
  outputs: 'probs' | 'logits';
  thresholds: Thresholds;
  /** The command that trained it. */
  trainedWith: string;
  /** Figures measured in Node by the build script on MNIST / Fashion-MNIST test images. */
  measured?: Record<string, number>;
}

/** The manifest file. */
export interface Manifest {
  /** Number of MC samples the thresholds were calibrated with. */
  mcSamples: number;
  models: ModelEntry[];
}

/** Fetch and check the manifest. */
export async function loadManifest(url: string): Promise<Manifest> {
  const res = await fetch(url);
  if (!res.ok) {
    throw new Error(
      `${url}: HTTP ${res.status}; build the models first: npx tsx scripts/build-web-models.ts`,
    );
  }
  const m = (await res.json()) as Manifest;
  if (!Array.isArray(m.models) || m.models.length === 0) throw new Error(`${url}: no models`);
  return m;
}
