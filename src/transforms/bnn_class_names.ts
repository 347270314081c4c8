/**
 * The Bayesian layer classes a DNN -> BNN conversion targets: the class name of each kind for each
 * estimator (`BNN_*_CLASS`, from the estimator registry), every registered class of a kind (plain
 * and MOPED) and the classes that may replace each convertible DNN layer type.
 */
import { ArgumentError } from '../utils/errors.js';
import {
  BAYESIAN_CLASSES,
  bayesianClassName,
  type BayesianKind,
} from '../layers/bayesian_classes.js';
import { ESTIMATOR_NAMES, type Estimator } from '../layers/estimator_registry.js';
import type { DnnLayerType } from './conversion_types.js';

/** Bayesian Dense class name for each estimator (from the estimator registry). */
export const BNN_DENSE_CLASS: Readonly<Record<Estimator, string>> = classNames('dense');

/** Bayesian Conv2D class name for each estimator (from the estimator registry). */
export const BNN_CONV_CLASS: Readonly<Record<Estimator, string>> = classNames('conv');

/** Bayesian Conv1D class name for each estimator (from the estimator registry). */
export const BNN_CONV1D_CLASS: Readonly<Record<Estimator, string>> = classNames('conv1d');

/** Bayesian Conv2DTranspose class name for each estimator (from the estimator registry). */
export const BNN_CONV2D_TRANSPOSE_CLASS: Readonly<Record<Estimator, string>> =
  classNames('conv2dTranspose');

/** Bayesian Conv3D class name for each estimator (from the estimator registry). */
export const BNN_CONV3D_CLASS: Readonly<Record<Estimator, string>> = classNames('conv3d');

/** Bayesian Conv3DTranspose class name for each estimator (from the estimator registry). */
export const BNN_CONV3D_TRANSPOSE_CLASS: Readonly<Record<Estimator, string>> =
  classNames('conv3dTranspose');

/** Bayesian LSTM class name for each estimator (from the estimator registry). */
export const BNN_LSTM_CLASS: Readonly<Record<Estimator, string>> = classNames('lstm');

/** Bayesian GRU class name for each estimator (from the estimator registry). */
export const BNN_GRU_CLASS: Readonly<Record<Estimator, string>> = classNames('gru');

/** Bayesian SimpleRNN class name for each estimator (from the estimator registry). */
export const BNN_SIMPLE_RNN_CLASS: Readonly<Record<Estimator, string>> = classNames('simpleRnn');

/** The class name of a kind for each estimator. */
function classNames(kind: BayesianKind): Record<Estimator, string> {
  return Object.fromEntries(ESTIMATOR_NAMES.map((e) => [e, bayesianClassName(kind, e)])) as Record<
    Estimator,
    string
  >;
}

/** Every registered class name of a kind (plain and MOPED). */
function classesOf(kind: BayesianKind): string[] {
  return BAYESIAN_CLASSES.filter((c) => c.kind === kind).map((c) => c.className);
}
const DENSE_CLASSES: readonly string[] = classesOf('dense');
const CONV_CLASSES: readonly string[] = classesOf('conv');
const CONV1D_CLASSES: readonly string[] = classesOf('conv1d');
const CONV2D_TRANSPOSE_CLASSES: readonly string[] = classesOf('conv2dTranspose');
const LSTM_CLASSES: readonly string[] = classesOf('lstm');
const GRU_CLASSES: readonly string[] = classesOf('gru');
const SIMPLE_RNN_CLASSES: readonly string[] = classesOf('simpleRnn');
const CONV3D_CLASSES: readonly string[] = classesOf('conv3d');
const CONV3D_TRANSPOSE_CLASSES: readonly string[] = classesOf('conv3dTranspose');

/** The Bayesian classes that can replace each convertible DNN layer type. */
export const TARGETS: Readonly<Record<DnnLayerType, readonly string[]>> = {
  Dense: DENSE_CLASSES,
  Conv2D: CONV_CLASSES,
  DepthwiseConv2D: CONV_CLASSES,
  Conv1D: CONV1D_CLASSES,
  Conv2DTranspose: CONV2D_TRANSPOSE_CLASSES,
  SeparableConv2D: CONV_CLASSES,
  LSTM: LSTM_CLASSES,
  GRU: GRU_CLASSES,
  SimpleRNN: SIMPLE_RNN_CLASSES,
  Conv3D: CONV3D_CLASSES,
  Conv3DTranspose: CONV3D_TRANSPOSE_CLASSES,
};

/** The class name of a Bayesian layer class or name; throws naming `name` otherwise. */
export function bnnClassName(t: unknown, name: string): string {
  const cls =
    typeof t === 'string'
      ? t
      : typeof t === 'function' && typeof (t as { className?: unknown }).className === 'string'
        ? (t as unknown as { className: string }).className
        : undefined;
  const known = [
    ...DENSE_CLASSES,
    ...CONV_CLASSES,
    ...CONV1D_CLASSES,
    ...CONV2D_TRANSPOSE_CLASSES,
    ...LSTM_CLASSES,
    ...GRU_CLASSES,
    ...SIMPLE_RNN_CLASSES,
    ...CONV3D_CLASSES,
    ...CONV3D_TRANSPOSE_CLASSES,
  ];
  if (cls === undefined || !known.includes(cls)) {
    throw new ArgumentError(
      name,
      `expected a Bayesian layer class or one of ${known.join(', ')}, got ${String(cls ?? t)}`,
    );
  }
  return cls;
}
