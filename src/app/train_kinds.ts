/**
 * The options of `deepprob train` that only one kind of model reads (Bayesian or evidential), and
 * the refusal of such an option given for a model of another kind, before any data is loaded.
 */
import { getModelEntry, MODELS, type ModelKind } from '../models/registry.js';
import { ArgumentError } from '../utils/errors.js';

/**
 * The options that only one kind of model reads, by configuration field: the others train without
 * them (a Bayesian option given to a plain model was saved and silently ignored).
 */
export const KIND_OPTIONS: Readonly<Record<string, { flag: string; kind: ModelKind }>> = {
  estimator: { flag: 'estimator', kind: 'bayesian' },
  klWeight: { flag: 'kl-weight', kind: 'bayesian' },
  priorMu: { flag: 'prior-mu', kind: 'bayesian' },
  priorSigma: { flag: 'prior-sigma', kind: 'bayesian' },
  rhoInit: { flag: 'rho-init', kind: 'bayesian' },
  rhoLrScale: { flag: 'rho-lr-scale', kind: 'bayesian' },
  trainSamples: { flag: 'train-samples', kind: 'bayesian' },
  evidentialLoss: { flag: 'loss', kind: 'evidential' },
  evidence: { flag: 'evidence', kind: 'evidential' },
};

/**
 * Refuse an option the user gave that the model's kind does not read (`--kl-weight` for the plain
 * `lenet5`, `--loss` for a Bayesian model), before any data is loaded. Only the options in
 * `explicit` count: defaults and a recipe's settings are never refused.
 * @param model the model trained.
 * @param explicit the configuration fields given on the command line.
 * @throws ArgumentError naming the option, the model and its kind, and the models that read it.
 */
export function checkKindOptions(model: string, explicit: readonly string[]): void {
  const kind = getModelEntry(model).kind;
  for (const key of explicit) {
    const o = KIND_OPTIONS[key];
    if (o === undefined || o.kind === kind) continue;
    const takers = Object.values(MODELS)
      .filter((e) => e.kind === o.kind)
      .map((e) => e.name);
    throw new ArgumentError(
      o.flag,
      `--${o.flag} applies to ${o.kind} models only (${takers.join(', ')}); ${model} is a ` +
        `${kind} model and would ignore it (leave --${o.flag} out, or train one of those)`,
    );
  }
}
