/**
 * The method specifications and options of the `deepprob shift` runner: which uncertainty
 * method (plain, temperature scaling, MC dropout, Bayesian sampling, ensembles, last-layer
 * Laplace, SWAG, evidential) to build from which checkpoint(s), parsed from `label=kind:dir,...`.
 */
import type { ShiftBenchmarkResult } from '../../toolbox/shift/benchmark_types.js';
import { ArgumentError } from '../../utils/errors.js';

/** Method kinds of the shift runner (`runShiftBenchmark`). */
export const SHIFT_METHOD_KINDS = [
  'plain',
  'temperature',
  'mc-dropout',
  'bayes',
  'bayes-temperature',
  'ensemble',
  'laplace',
  'laplace-diag',
  'laplace-full',
  'laplace-all',
  'laplace-all-diag',
  'swag',
  'multiswag',
  'evidential',
] as const;

/** A method kind. */
export type ShiftMethodKind = (typeof SHIFT_METHOD_KINDS)[number];

/** One method to evaluate: a kind and the run directories it uses. */
export interface ShiftMethodSpec {
  /** Display name (default `kind`). */
  name?: string;
  kind: ShiftMethodKind;
  /** Run/checkpoint directories (several for `ensemble` / `multiswag`, one otherwise). */
  checkpoints: string[];
  /**
   * `bayes` and `bayes-temperature` only: factor on every posterior standard deviation at
   * prediction (`kind@scale`, e.g. `bayes@1.5`; default 1), see `toolbox.withPosteriorScale`.
   */
  posteriorScale?: number;
}

/**
 * Parse `[name=]kind[@scale]:dir[,dir...]` (e.g. `laplace:runs/plain`,
 * `ens5=ensemble:runs/a,runs/b`, `bbb=bayes@1.5:runs/bnn`; `@scale` only for `bayes`).
 */
export function parseMethodSpec(spec: string): ShiftMethodSpec {
  const m = /^(?:([^=:]+)=)?([a-z-]+)(?:@([^:]*))?:(.+)$/.exec(spec.trim());
  if (m === null) {
    throw new ArgumentError('methods', `expected [name=]kind[@scale]:dir[,dir...], got '${spec}'`);
  }
  let posteriorScale: number | undefined;
  if (m[3] !== undefined) {
    posteriorScale = Number(m[3]);
    if (
      (m[2] !== 'bayes' && m[2] !== 'bayes-temperature') ||
      m[3] === '' ||
      !(posteriorScale >= 0) ||
      !Number.isFinite(posteriorScale)
    ) {
      throw new ArgumentError(
        'methods',
        `'@scale' takes a finite number >= 0 and only follows the kinds bayes and bayes-temperature, got '${spec}'`,
      );
    }
  }
  const kind = m[2] as ShiftMethodKind;
  if (!(SHIFT_METHOD_KINDS as readonly string[]).includes(kind)) {
    throw new ArgumentError(
      'methods',
      `unknown kind '${kind}' in '${spec}'; expected one of ${SHIFT_METHOD_KINDS.join(', ')}`,
    );
  }
  const checkpoints = (m[4] as string).split(',').filter((s) => s.length > 0);
  if (kind !== 'ensemble' && kind !== 'multiswag' && checkpoints.length !== 1) {
    throw new ArgumentError(
      'methods',
      `${kind} takes one run directory, got ${checkpoints.length} in '${spec}'`,
    );
  }
  return {
    kind,
    checkpoints,
    ...(m[1] !== undefined ? { name: m[1] } : {}),
    ...(posteriorScale !== undefined ? { posteriorScale } : {}),
  };
}

/** Options of {@link runShiftBenchmark}. */
export interface ShiftRunOptions {
  methods: ShiftMethodSpec[];
  /** Output directory (default `runs/shift`). */
  out?: string;
  /** Test images per set (the first N of the test split; default 1000). */
  limit?: number;
  /**
   * Held-out calibration images (default 1000): test images `limit .. limit + n`, from the same
   * half of the test split as the evaluated images (MNIST's two test halves differ, so a
   * calibration set from the other half would not be exchangeable with them).
   */
  calibrationSize?: number;
  /**
   * Which test images (default `'head'`): `'head'` evaluates the first `limit` and calibrates on
   * the next `calibrationSize`; `'random'` does the same after a seeded random permutation of the
   * whole test split, so the evaluated and calibration images are exchangeable (what split
   * conformal's coverage guarantee assumes).
   */
  split?: 'head' | 'random';
  /** Monte Carlo samples of stochastic methods (default 20). */
  mcSamples?: number;
  /** Families to run: `rotation`, `corruption` (default both). */
  families?: ('rotation' | 'corruption')[];
  /** Rotation angles (default 15..180 step 15). */
  angles?: number[];
  /** Corruption severities (default [1, 3, 5]). */
  severities?: number[];
  /**
   * OOD sets, each a dataset name or `name:DIR` (`fashion-mnist`, `kmnist:/data/kmnist`, ...) or
   * `uniform-noise`. Default: `fashion-mnist`, `kmnist` when its files are in
   * `$DEEPPROB_DATA_DIR/kmnist`, `uniform-noise`.
   */
  ood?: string[];
  /** Conformal level (default 0.05) and score (default `aps`). */
  alpha?: number;
  conformalScore?: 'lac' | 'aps' | 'raps';
  /** Training images used by Laplace / SWAG / MC-dropout fine-tuning (default: all). */
  trainLimit?: number;
  /** SWAG: epochs of constant-lr SGD (default 1), learning rate (default 0.005), rank (default 20). */
  swagEpochs?: number;
  swagLr?: number;
  swagRank?: number;
  /** Seed (default 1). */
  seed?: number;
  /** Progress lines (default stderr). */
  log?: (line: string) => void;
  /**
   * Stop gracefully on SIGINT/SIGTERM/SIGHUP (the CLI sets it): after the current set, write the
   * rows done so far as a partial report (`meta.partial` in `shift.json`, a banner in
   * `shift.html`) when at least one set was done, else nothing, and throw `RunInterrupted`; a
   * second signal exits at once. Default false.
   */
  handleSignals?: boolean;
}

/** Result of {@link runShiftBenchmark}. */
export interface ShiftRunResult {
  result: ShiftBenchmarkResult;
  table: string;
  jsonPath: string;
  htmlPath: string;
}
