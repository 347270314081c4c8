/**
 * The checks and defaults of the shift runner's options, all before any model or data is loaded:
 * `limit`, `calibrationSize`, `mcSamples` positive integers, rotation angles finite (default
 * `15 k` degrees, `k = 1..12`), corruption severities in `1..5`, the OOD sets, the split and a
 * writable output folder.
 */
import { parseDatasetSpec, type DatasetSpec } from '../../data/files.js';
import { datasetDirFromEnv } from '../../data/file_readers.js';
import { ArgumentError } from '../../utils/errors.js';
import { checkWritableDir } from '../run_dir.js';
import type { ShiftRunOptions } from './spec.js';

/** The shift runner's settings, checked, with their defaults filled in. */
export interface ResolvedRunOptions {
  /** Test images per set. */
  limit: number;
  /** Held-out calibration images. */
  calSize: number;
  /** Monte Carlo samples `S` per prediction. */
  s: number;
  /** Shift families to build. */
  families: ('rotation' | 'corruption')[];
  /** Rotation angles in degrees. */
  angles: number[];
  /** Corruption severities. */
  severities: number[];
  /** The OOD sets. */
  oodSpecs: DatasetSpec[];
  /** The run's seed. */
  seed: number;
  /** Which test images are evaluated. */
  split: 'head' | 'random';
  /** The output folder (checked writable). */
  out: string;
}

/**
 * The run's settings with their defaults, checked.
 * @throws ArgumentError naming the option.
 */
export function resolveRunOptions(options: ShiftRunOptions): ResolvedRunOptions {
  if (!Array.isArray(options.methods) || options.methods.length === 0) {
    throw new ArgumentError('methods', 'expected at least one method spec');
  }
  // rows, summaries and chart lines are keyed by the method's name: two of one name would merge
  const seenNames = new Map<string, number>();
  options.methods.forEach((spec, i) => {
    const name = spec?.name ?? spec?.kind;
    const prev = seenNames.get(name);
    if (prev !== undefined) {
      throw new ArgumentError(
        'methods',
        `methods ${prev + 1} and ${i + 1} are both named '${name}': give one a label (label=${spec.kind}:...)`,
      );
    }
    seenNames.set(name, i);
  });
  const limit = options.limit ?? 1000;
  const calSize = options.calibrationSize ?? 1000;
  const s = options.mcSamples ?? 20;
  for (const [v, name] of [
    [limit, 'limit'],
    [calSize, 'calibrationSize'],
    [s, 'mcSamples'],
  ] as const) {
    if (!Number.isInteger(v) || v < 1)
      throw new ArgumentError(name, `expected a positive integer, got ${v}`);
  }
  const families = options.families ?? ['rotation', 'corruption'];
  const angles = options.angles ?? Array.from({ length: 12 }, (_, i) => 15 * (i + 1));
  if (!Array.isArray(angles) || angles.some((a) => typeof a !== 'number' || !Number.isFinite(a))) {
    throw new ArgumentError(
      'angles',
      `expected finite rotation angles in degrees, got ${String(angles)}`,
    );
  }
  if (
    !Array.isArray(families) ||
    families.some((f) => (f as string) !== 'rotation' && (f as string) !== 'corruption')
  ) {
    throw new ArgumentError(
      'families',
      `expected a list of 'rotation' and 'corruption', got ${String(families)}`,
    );
  }
  const severities = options.severities ?? [1, 3, 5];
  if (
    !Array.isArray(severities) ||
    severities.some((v) => !Number.isInteger(v) || v < 1 || v > 5)
  ) {
    throw new ArgumentError(
      'severities',
      `expected corruption severities, integers in 1..5, got ${String(severities)}`,
    );
  }
  const oodNames = options.ood ?? [
    'fashion-mnist',
    ...(datasetDirFromEnv('kmnist') !== undefined ? ['kmnist'] : []),
    'uniform-noise',
  ];
  if (!Array.isArray(oodNames)) {
    throw new ArgumentError('ood', `expected a list of OOD sets, got ${String(oodNames)}`);
  }
  const oodSpecs = oodNames.map((o) => parseDatasetSpec(o, 'ood', ['uniform-noise']));
  const seed = options.seed ?? 1;
  const split = options.split ?? 'head';
  if (split !== 'head' && split !== 'random') {
    throw new ArgumentError('split', `expected 'head' or 'random', got '${String(split)}'`);
  }
  const out = options.out ?? 'runs/shift';
  // written at the end: refuse an unwritable folder before any model or data is loaded
  checkWritableDir(out, 'out');
  return { limit, calSize, s, families, angles, severities, oodSpecs, seed, split, out };
}
