/**
 * The Bayesian layer classes, made from the estimator registry: for every estimator `e` with
 * suffix `S` (`estimator_registry.ts`) the Dense, Conv2D, Conv1D, Conv2DTranspose, LSTM, GRU and
 * SimpleRNN classes `DenseS`, `ConvS`, `Conv1DS`, `Conv2DTransposeS`, `LSTMS`, `GRUS`, `SimpleRNNS` and their MOPED twins `MopedDenseS`,
 * `MopedConvS`, `MopedConv1DS`, `MopedConv2DTransposeS`, `MopedLSTMS`, `MopedGRUS`, `MopedSimpleRNNS` (a Normal prior centred on given weights,
 * `p(w_i) = N(w0_i, priorSigma^2)`: `centredPrior` always on). Each class is registered for
 * serialization under its name, so models saved with any of them load with `tf.loadLayersModel`.
 * The Conv3D and Conv3DTranspose kinds give `Conv3DS`, `Conv3DTransposeS` and their MOPED twins
 * `MopedConv3DS`, `MopedConv3DTransposeS` likewise.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { Conv1DVariational } from './conv1d_variational.js';
import { Conv2DTransposeVariational } from './conv2d_transpose_variational.js';
import { Conv3DVariational } from './conv3d_variational.js';
import { Conv3DTransposeVariational } from './conv3d_transpose_variational.js';
import { ConvVariational } from './conv_variational.js';
import { DenseVariational } from './dense_variational.js';
import { GRUVariational } from './gru_variational.js';
import { LSTMVariational } from './lstm_variational.js';
import { SimpleRNNVariational } from './simple_rnn_variational.js';
import {
  ESTIMATOR_NAMES,
  ESTIMATORS,
  checkEstimator,
  type Estimator,
} from './estimator_registry.js';

/** The kinds of Bayesian layer: a Dense (matmul), a Conv2D, a Conv1D, a transposed Conv2D map or an LSTM, GRU or SimpleRNN recurrence. */
export type BayesianKind =
  | 'dense'
  | 'conv'
  | 'conv1d'
  | 'conv2dTranspose'
  | 'lstm'
  | 'gru'
  | 'simpleRnn'
  | 'conv3d'
  | 'conv3dTranspose';

/** A concrete Bayesian Dense class (registered under `className`). */
export type DenseClass = typeof DenseVariational & { readonly className: string };
/** A concrete Bayesian Conv2D class (registered under `className`). */
export type ConvClass = typeof ConvVariational & { readonly className: string };
/** A concrete Bayesian Conv1D class (registered under `className`). */
export type Conv1DClass = typeof Conv1DVariational & { readonly className: string };
/** A concrete Bayesian Conv2DTranspose class (registered under `className`). */
export type Conv2DTransposeClass = typeof Conv2DTransposeVariational & {
  readonly className: string;
};
/** A concrete Bayesian LSTM class (registered under `className`). */
export type LSTMClass = typeof LSTMVariational & { readonly className: string };
/** A concrete Bayesian GRU class (registered under `className`). */
export type GRUClass = typeof GRUVariational & { readonly className: string };
/** A concrete Bayesian SimpleRNN class (registered under `className`). */
export type SimpleRNNClass = typeof SimpleRNNVariational & { readonly className: string };

/** A concrete Bayesian Conv3D class (registered under `className`). */
export type Conv3DClass = typeof Conv3DVariational & { readonly className: string };
/** A concrete Bayesian Conv3DTranspose class (registered under `className`). */
export type Conv3DTransposeClass = typeof Conv3DTransposeVariational & {
  readonly className: string;
};

/** The classes of one estimator. */
export interface EstimatorClasses {
  /** `Dense<Suffix>`. */
  readonly dense: DenseClass;
  /** `Conv<Suffix>`. */
  readonly conv: ConvClass;
  /** `MopedDense<Suffix>` (prior centred on given weights; a subclass of `dense`). */
  readonly mopedDense: DenseClass;
  /** `MopedConv<Suffix>` (prior centred on given weights; a subclass of `conv`). */
  readonly mopedConv: ConvClass;
  /** `Conv1D<Suffix>`. */
  readonly conv1d: Conv1DClass;
  /** `MopedConv1D<Suffix>` (prior centred on given weights; a subclass of `conv1d`). */
  readonly mopedConv1d: Conv1DClass;
  /** `Conv2DTranspose<Suffix>`. */
  readonly conv2dTranspose: Conv2DTransposeClass;
  /** `MopedConv2DTranspose<Suffix>` (prior centred on given weights; a subclass of `conv2dTranspose`). */
  readonly mopedConv2dTranspose: Conv2DTransposeClass;
  /** `LSTM<Suffix>`. */
  readonly lstm: LSTMClass;
  /** `MopedLSTM<Suffix>` (prior centred on given weights; a subclass of `lstm`). */
  readonly mopedLstm: LSTMClass;
  /** `GRU<Suffix>`. */
  readonly gru: GRUClass;
  /** `MopedGRU<Suffix>` (prior centred on given weights; a subclass of `gru`). */
  readonly mopedGru: GRUClass;
  /** `SimpleRNN<Suffix>`. */
  readonly simpleRnn: SimpleRNNClass;
  /** `MopedSimpleRNN<Suffix>` (prior centred on given weights; a subclass of `simpleRnn`). */
  readonly mopedSimpleRnn: SimpleRNNClass;
  /** `Conv3D<Suffix>`. */
  readonly conv3d: Conv3DClass;
  /** `MopedConv3D<Suffix>` (prior centred on given weights; a subclass of `conv3d`). */
  readonly mopedConv3d: Conv3DClass;
  /** `Conv3DTranspose<Suffix>`. */
  readonly conv3dTranspose: Conv3DTransposeClass;
  /** `MopedConv3DTranspose<Suffix>` (prior centred on given weights; a subclass of `conv3dTranspose`). */
  readonly mopedConv3dTranspose: Conv3DTransposeClass;
}

/** What a registered Bayesian class name stands for. */
export interface BayesianClassInfo {
  readonly className: string;
  readonly kind: BayesianKind;
  readonly estimator: Estimator;
  /** Whether it is a MOPED class (prior centred on given weights). */
  readonly centred: boolean;
}

/** Give `cls` its class name and register it for serialization. */
function registered<T extends tf.serialization.SerializableConstructor<tf.layers.Layer>>(
  cls: T,
  className: string,
): T {
  Object.defineProperty(cls, 'name', { value: className });
  tf.serialization.registerClass(cls);
  return cls;
}

/** Make and register the eight classes of `estimator`. */
function makeClasses(estimator: Estimator): EstimatorClasses {
  const s = ESTIMATORS[estimator].suffix;
  const dense = registered(
    class extends DenseVariational {
      static className = `Dense${s}`;
      static override estimator: Estimator | undefined = estimator;
    },
    `Dense${s}`,
  );
  const conv = registered(
    class extends ConvVariational {
      static className = `Conv${s}`;
      static override estimator: Estimator | undefined = estimator;
    },
    `Conv${s}`,
  );
  const mopedDense = registered(
    class extends dense {
      static override className = `MopedDense${s}`;
      static override centred = true;
    },
    `MopedDense${s}`,
  );
  const mopedConv = registered(
    class extends conv {
      static override className = `MopedConv${s}`;
      static override centred = true;
    },
    `MopedConv${s}`,
  );
  const conv1d = registered(
    class extends Conv1DVariational {
      static className = `Conv1D${s}`;
      static override estimator: Estimator | undefined = estimator;
    },
    `Conv1D${s}`,
  );
  const mopedConv1d = registered(
    class extends conv1d {
      static override className = `MopedConv1D${s}`;
      static override centred = true;
    },
    `MopedConv1D${s}`,
  );
  const conv2dTranspose = registered(
    class extends Conv2DTransposeVariational {
      static className = `Conv2DTranspose${s}`;
      static override estimator: Estimator | undefined = estimator;
    },
    `Conv2DTranspose${s}`,
  );
  const mopedConv2dTranspose = registered(
    class extends conv2dTranspose {
      static override className = `MopedConv2DTranspose${s}`;
      static override centred = true;
    },
    `MopedConv2DTranspose${s}`,
  );
  const lstm = registered(
    class extends LSTMVariational {
      static className = `LSTM${s}`;
      static override estimator: Estimator | undefined = estimator;
    },
    `LSTM${s}`,
  );
  const mopedLstm = registered(
    class extends lstm {
      static override className = `MopedLSTM${s}`;
      static override centred = true;
    },
    `MopedLSTM${s}`,
  );
  const gru = registered(
    class extends GRUVariational {
      static className = `GRU${s}`;
      static override estimator: Estimator | undefined = estimator;
    },
    `GRU${s}`,
  );
  const mopedGru = registered(
    class extends gru {
      static override className = `MopedGRU${s}`;
      static override centred = true;
    },
    `MopedGRU${s}`,
  );
  const simpleRnn = registered(
    class extends SimpleRNNVariational {
      static className = `SimpleRNN${s}`;
      static override estimator: Estimator | undefined = estimator;
    },
    `SimpleRNN${s}`,
  );
  const mopedSimpleRnn = registered(
    class extends simpleRnn {
      static override className = `MopedSimpleRNN${s}`;
      static override centred = true;
    },
    `MopedSimpleRNN${s}`,
  );
  const conv3d = registered(
    class extends Conv3DVariational {
      static className = `Conv3D${s}`;
      static override estimator: Estimator | undefined = estimator;
    },
    `Conv3D${s}`,
  );
  const mopedConv3d = registered(
    class extends conv3d {
      static override className = `MopedConv3D${s}`;
      static override centred = true;
    },
    `MopedConv3D${s}`,
  );
  const conv3dTranspose = registered(
    class extends Conv3DTransposeVariational {
      static className = `Conv3DTranspose${s}`;
      static override estimator: Estimator | undefined = estimator;
    },
    `Conv3DTranspose${s}`,
  );
  const mopedConv3dTranspose = registered(
    class extends conv3dTranspose {
      static override className = `MopedConv3DTranspose${s}`;
      static override centred = true;
    },
    `MopedConv3DTranspose${s}`,
  );
  return {
    dense,
    conv,
    mopedDense,
    mopedConv,
    conv1d,
    mopedConv1d,
    conv2dTranspose,
    mopedConv2dTranspose,
    lstm,
    mopedLstm,
    gru,
    mopedGru,
    simpleRnn,
    mopedSimpleRnn,
    conv3d,
    mopedConv3d,
    conv3dTranspose,
    mopedConv3dTranspose,
  };
}

/** The classes of every registered estimator. */
export const ESTIMATOR_CLASSES: Readonly<Record<Estimator, EstimatorClasses>> = Object.fromEntries(
  ESTIMATOR_NAMES.map((e) => [e, makeClasses(e)]),
) as Record<Estimator, EstimatorClasses>;

/** Every registered Bayesian class name with what it stands for. */
export const BAYESIAN_CLASSES: readonly BayesianClassInfo[] = ESTIMATOR_NAMES.flatMap((e) => {
  const s = ESTIMATORS[e].suffix;
  return [
    { className: `Dense${s}`, kind: 'dense', estimator: e, centred: false },
    { className: `Conv${s}`, kind: 'conv', estimator: e, centred: false },
    { className: `MopedDense${s}`, kind: 'dense', estimator: e, centred: true },
    { className: `MopedConv${s}`, kind: 'conv', estimator: e, centred: true },
    { className: `Conv1D${s}`, kind: 'conv1d', estimator: e, centred: false },
    { className: `MopedConv1D${s}`, kind: 'conv1d', estimator: e, centred: true },
    { className: `Conv2DTranspose${s}`, kind: 'conv2dTranspose', estimator: e, centred: false },
    {
      className: `MopedConv2DTranspose${s}`,
      kind: 'conv2dTranspose',
      estimator: e,
      centred: true,
    },
    { className: `LSTM${s}`, kind: 'lstm', estimator: e, centred: false },
    { className: `MopedLSTM${s}`, kind: 'lstm', estimator: e, centred: true },
    { className: `GRU${s}`, kind: 'gru', estimator: e, centred: false },
    { className: `MopedGRU${s}`, kind: 'gru', estimator: e, centred: true },
    { className: `SimpleRNN${s}`, kind: 'simpleRnn', estimator: e, centred: false },
    { className: `MopedSimpleRNN${s}`, kind: 'simpleRnn', estimator: e, centred: true },
    { className: `Conv3D${s}`, kind: 'conv3d', estimator: e, centred: false },
    { className: `MopedConv3D${s}`, kind: 'conv3d', estimator: e, centred: true },
    { className: `Conv3DTranspose${s}`, kind: 'conv3dTranspose', estimator: e, centred: false },
    {
      className: `MopedConv3DTranspose${s}`,
      kind: 'conv3dTranspose',
      estimator: e,
      centred: true,
    },
  ] as const;
});

/**
 * The class name of a kind, estimator and prior: `Dense<Suffix>`, `Conv<Suffix>`,
 * `Conv1D<Suffix>`, `Conv2DTranspose<Suffix>`, `LSTM<Suffix>`, with `centred` `MopedDense<Suffix>`, ... .
 * @throws ArgumentError naming `estimator` or `kind` when not registered.
 */
export function bayesianClassName(kind: BayesianKind, estimator: unknown, centred = false): string {
  const s = ESTIMATORS[checkEstimator(estimator)].suffix;
  const stems: Record<BayesianKind, string> = {
    dense: 'Dense',
    conv: 'Conv',
    conv1d: 'Conv1D',
    conv2dTranspose: 'Conv2DTranspose',
    lstm: 'LSTM',
    gru: 'GRU',
    simpleRnn: 'SimpleRNN',
    conv3d: 'Conv3D',
    conv3dTranspose: 'Conv3DTranspose',
  };
  if (typeof kind === 'string' && Object.hasOwn(stems, kind)) {
    return `${centred ? 'Moped' : ''}${stems[kind]}${s}`;
  }
  throw new ArgumentError(
    'kind',
    `expected 'dense', 'conv', 'conv1d', 'conv2dTranspose', 'lstm', 'gru', 'simpleRnn', 'conv3d' or 'conv3dTranspose', got '${String(kind)}'`,
  );
}

/** What `className` stands for, or undefined when it is not a Bayesian class of the registry. */
export function bayesianClassInfo(className: string): BayesianClassInfo | undefined {
  return BAYESIAN_CLASSES.find((c) => c.className === className);
}
