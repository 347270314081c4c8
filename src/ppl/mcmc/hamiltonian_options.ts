/**
 * The options shared by the Hamiltonian-family kernels ({@link HamiltonianOptions}: step size,
 * adaptation switches, the initial inverse mass matrix, `targetAcceptProb`, `maxDeltaEnergy`, the
 * init strategy, `compile`, `maxPlateNesting`, the warmup windows), their names, and their checks:
 * every option validated, naming it, before a chain starts; the resolved options with Stan's
 * defaults (step size 1, target acceptance 0.8, divergence at an energy error of 1000).
 */
import { ArgumentError } from '../../utils/errors.js';
import { booleanOption } from '../../utils/options.js';
import { resolveInit } from '../init_strategy.js';
import type { CompileMode } from './compiled_potential.js';
import type { InitStrategy } from './init.js';
import { cholesky } from './metric.js';
import type { WarmupWindowOptions } from './warmup.js';

/** The option names of {@link HamiltonianOptions}. */
export const HAMILTONIAN_OPTION_KEYS: readonly string[] = [
  'stepSize',
  'adaptStepSize',
  'adaptMassMatrix',
  'fullMass',
  'denseMass',
  'inverseMassMatrix',
  'targetAcceptProb',
  'maxDeltaEnergy',
  'initStrategy',
  'compile',
  'maxPlateNesting',
  'initBuffer',
  'termBuffer',
  'baseWindow',
];

/**
 * Check an initial inverse mass matrix (before any work): finite values; the diagonal `m_i > 0`,
 * or with `fullMass` a symmetric positive-definite `d x d` matrix (row-major, `d^2` values,
 * `M^{-1} = L L^T` with a real Cholesky factor `L`). Its length against the model's dimension is
 * checked when a chain starts.
 */
function checkInverseMass(
  imm: Float64Array | number[] | undefined,
  fullMass: boolean,
): Float64Array | undefined {
  if (imm === undefined) return undefined;
  if (!(imm instanceof Float64Array) && !Array.isArray(imm)) {
    throw new ArgumentError('inverseMassMatrix', 'expected an array or Float64Array of numbers');
  }
  const a = Float64Array.from(imm as ArrayLike<number>);
  if (a.length === 0 || a.some((v) => !Number.isFinite(v))) {
    throw new ArgumentError('inverseMassMatrix', 'expected a non-empty array of finite numbers');
  }
  if (!fullMass) {
    const i = a.findIndex((v) => !(v > 0));
    if (i >= 0) {
      throw new ArgumentError(
        'inverseMassMatrix',
        `expected a diagonal of positive values, got ${a[i]} at ${i}`,
      );
    }
    return a;
  }
  const d = Math.round(Math.sqrt(a.length));
  if (d * d !== a.length) {
    throw new ArgumentError(
      'inverseMassMatrix',
      `with fullMass: expected d * d values (a d x d matrix, row-major), got ${a.length}`,
    );
  }
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < i; j++) {
      const x = a[i * d + j] as number;
      const y = a[j * d + i] as number;
      if (Math.abs(x - y) > 1e-9 * Math.max(1, Math.abs(x), Math.abs(y))) {
        throw new ArgumentError(
          'inverseMassMatrix',
          `expected a symmetric matrix: [${i}, ${j}] = ${x}, [${j}, ${i}] = ${y}`,
        );
      }
    }
  }
  try {
    cholesky(a, d);
  } catch {
    throw new ArgumentError('inverseMassMatrix', 'expected a positive-definite matrix');
  }
  return a;
}

/**
 * Check `fullMass` given as blocks of site names (before any work): a non-empty array of
 * non-empty arrays of names, no name twice, and a model (a flat potential has no site names);
 * `undefined` when `fullMass` is not an array.
 */
function checkMassBlocks(fm: unknown, target: unknown): string[][] | undefined {
  if (!Array.isArray(fm)) return undefined;
  const seen = new Set<string>();
  if (fm.length === 0) {
    throw new ArgumentError('fullMass', 'expected true, false or a non-empty list of site blocks');
  }
  for (const b of fm as unknown[]) {
    if (!Array.isArray(b) || b.length === 0 || b.some((n) => typeof n !== 'string' || n === '')) {
      throw new ArgumentError(
        'fullMass',
        `expected blocks of site names (e.g. [['a', 'b'], ['c']]), got ${JSON.stringify(b)}`,
      );
    }
    for (const n of b as string[]) {
      if (seen.has(n)) throw new ArgumentError('fullMass', `site '${n}' is in two blocks`);
      seen.add(n);
    }
  }
  if (typeof target !== 'function') {
    throw new ArgumentError(
      'fullMass',
      'blocks of site names need a model (a flat Potential has no sites): use true or false',
    );
  }
  return (fm as string[][]).map((b) => [...b]);
}

/**
 * The block of each unconstrained coordinate for `fullMass` given as `blocks` of site names: the
 * coordinates of the sites of block `k` get `k`, every other coordinate its own id; an
 * {@link ArgumentError} naming `fullMass` for a name that is no latent site.
 */
export function coordinateBlocks(
  blocks: string[][],
  sites: readonly { name: string; offset: number; size: number }[],
): Int32Array {
  const dim = sites.reduce((n, s) => Math.max(n, s.offset + s.size), 0);
  const ids = Int32Array.from({ length: dim }, (_, i) => blocks.length + i);
  blocks.forEach((b, k) => {
    for (const name of b) {
      const site = sites.find((s) => s.name === name);
      if (site === undefined) {
        throw new ArgumentError(
          'fullMass',
          `'${name}' is no continuous latent site of the model (sites: ${sites.map((s) => `'${s.name}'`).join(', ')})`,
        );
      }
      for (let i = 0; i < site.size; i++) ids[site.offset + i] = k;
    }
  });
  return ids;
}

/** Zero the entries of a dense `d x d` matrix between coordinates of different blocks. */
export function maskToBlocks(m: Float64Array, ids: Int32Array): Float64Array {
  const d = ids.length;
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) if (ids[i] !== ids[j]) m[i * d + j] = 0;
  }
  return m;
}

/** Options shared by {@link HMC} and {@link NUTS} (Pyro's names, camel-cased). */
export interface HamiltonianOptions extends WarmupWindowOptions {
  /** Initial step size (adapted during warmup unless `adaptStepSize` is false). Default 1. */
  stepSize?: number;
  /** Dual-averaging adaptation of the step size during warmup. Default true. */
  adaptStepSize?: boolean;
  /** Windowed adaptation of the inverse mass matrix during warmup. Default true. */
  adaptMassMatrix?: boolean;
  /**
   * Dense inverse mass matrix (full covariance) instead of a diagonal one. Default false. A list
   * of blocks of site names (NumPyro's `dense_mass=[("a", "b"), ("c",)]`, Pyro's `full_mass`)
   * gives a block-diagonal `M⁻¹`: the coordinates of the sites of one block share a dense block
   * (their adapted covariance), every other coordinate keeps its own variance:
   * `(M⁻¹)_{ij} = Σ̂_{ij}` when `i` and `j` belong to sites of the same block (or `i = j`), else 0.
   */
  fullMass?: boolean | string[][];
  /**
   * NumPyro's name of {@link fullMass} (`dense_mass`): `true`, `false` or blocks of site names;
   * either may be given, both only when equal.
   */
  denseMass?: boolean | string[][];
  /** Initial inverse mass matrix: `dim` values (diag) or `dim*dim` row-major (dense). */
  inverseMassMatrix?: Float64Array | number[];
  /** Target acceptance statistic of the step-size adaptation. Default 0.8. */
  targetAcceptProb?: number;
  /** Energy error above which a trajectory is marked divergent (Stan: 1000). Default 1000. */
  maxDeltaEnergy?: number;
  /** How the chain starts in the unconstrained space. Default `'uniform'` (Stan's). */
  initStrategy?: InitStrategy;
  /**
   * Record the model's potential once and replay it in float64 without tfjs
   * (`compiled_potential.ts`): `'auto'` (default) falls back to the tfjs potential when the model
   * cannot be recorded or the replay disagrees with tfjs; `true` throws then; `false` always uses
   * tfjs. The model's structure must not depend on latent values (NumPyro's `jit` contract).
   */
  compile?: CompileMode;
  /**
   * The model's plate nesting (Pyro's `max_plate_nesting`): discrete latent sites are enumerated
   * at the dims left of it (`potential.ts`). Default: the deepest plate dim of the initial run.
   */
  maxPlateNesting?: number;
}

/**
 * The options with NumPyro's `denseMass` read as `fullMass` (the key removed), so that every later
 * reader (the checks, the workers' kernel spec, the Gibbs kernels) sees one name; anything but an
 * object is returned as is (refused by {@link resolveHamiltonianOptions}).
 * @throws ArgumentError naming `denseMass` when both are given and differ.
 */
export function denseMassAlias<T extends HamiltonianOptions>(options: T): T {
  if (options === null || typeof options !== 'object' || options.denseMass === undefined) {
    return options;
  }
  const { denseMass, ...rest } = options;
  if (typeof denseMass !== 'boolean' && !Array.isArray(denseMass)) {
    throw new ArgumentError(
      'denseMass',
      `expected true, false or blocks of site names (NumPyro's dense_mass), got ${String(denseMass)}`,
    );
  }
  if (rest.fullMass !== undefined && JSON.stringify(rest.fullMass) !== JSON.stringify(denseMass)) {
    throw new ArgumentError(
      'denseMass',
      `NumPyro's name of fullMass: give one of them, or both equal (fullMass ${JSON.stringify(rest.fullMass)}, denseMass ${JSON.stringify(denseMass)})`,
    );
  }
  return { ...rest, fullMass: denseMass } as T;
}

/** Resolved options of a Hamiltonian kernel. */
export interface ResolvedHamiltonianOptions {
  stepSize: number;
  adaptStepSize: boolean;
  adaptMassMatrix: boolean;
  fullMass: boolean;
  /** With `fullMass` given as blocks of site names: the blocks. */
  massBlocks: string[][] | undefined;
  inverseMassMatrix: Float64Array | undefined;
  targetAcceptProb: number;
  maxDeltaEnergy: number;
  windows: WarmupWindowOptions;
}

/**
 * Check a Hamiltonian kernel's target (a model function or a flat `Potential`) and options before
 * any work (an {@link ArgumentError} naming the option); the resolved options, the `compile` mode
 * (default `'auto'`) and the plate nesting given.
 */
export function resolveHamiltonianOptions(
  target: unknown,
  options: HamiltonianOptions,
): {
  opts: ResolvedHamiltonianOptions;
  compile: CompileMode;
  maxPlateNesting: number | undefined;
} {
  if (
    typeof target !== 'function' &&
    !(target !== null && typeof target === 'object' && 'valueAndGrad' in target)
  ) {
    throw new ArgumentError(
      'model',
      'expected a model function or a Potential ({dim, valueAndGrad})',
    );
  }
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError('options', `expected an object, got ${String(options)}`);
  }
  const stepSize = options.stepSize ?? 1;
  if (!(stepSize > 0) || !Number.isFinite(stepSize)) {
    throw new ArgumentError('stepSize', `expected a finite number > 0, got ${stepSize}`);
  }
  const tap = options.targetAcceptProb ?? 0.8;
  if (typeof tap !== 'number' || !(tap > 0 && tap < 1)) {
    throw new ArgumentError('targetAcceptProb', `expected a number in (0, 1), got ${tap}`);
  }
  const mde = options.maxDeltaEnergy ?? 1000;
  if (typeof mde !== 'number' || !(mde > 0)) {
    throw new ArgumentError('maxDeltaEnergy', `expected a number > 0, got ${mde}`);
  }
  const massBlocks = checkMassBlocks(options.fullMass, target);
  const fullMass =
    massBlocks !== undefined ? true : booleanOption(options.fullMass, 'fullMass', false);
  const imm = checkInverseMass(options.inverseMassMatrix, fullMass);
  if (options.initStrategy !== undefined) resolveInit(options.initStrategy, 'initStrategy');
  const opts: ResolvedHamiltonianOptions = {
    stepSize,
    adaptStepSize: booleanOption(options.adaptStepSize, 'adaptStepSize', true),
    adaptMassMatrix: booleanOption(options.adaptMassMatrix, 'adaptMassMatrix', true),
    fullMass,
    massBlocks,
    inverseMassMatrix: imm,
    targetAcceptProb: tap,
    maxDeltaEnergy: mde,
    windows: {
      initBuffer: options.initBuffer,
      termBuffer: options.termBuffer,
      baseWindow: options.baseWindow,
    },
  };
  const compile = options.compile ?? 'auto';
  if (compile !== 'auto' && compile !== true && compile !== false) {
    throw new ArgumentError('compile', `expected 'auto', true or false, got ${String(compile)}`);
  }
  const mpn = options.maxPlateNesting;
  if (mpn !== undefined && (!Number.isInteger(mpn) || mpn < 0)) {
    throw new ArgumentError('maxPlateNesting', `expected an integer >= 0, got ${String(mpn)}`);
  }
  return { opts, compile, maxPlateNesting: mpn };
}
