/**
 * The Bayesian `Bidirectional` wrapper: TF.js's `tf.layers.bidirectional` over a Bayesian recurrent
 * layer (LSTM, GRU, SimpleRNN of any estimator, MOPED ones included). Like TF.js, it makes two
 * copies of the given layer from its config: a forward one (`forward_<name>`) reading
 * `x_1..x_T` and a backward one (`backward_<name>`, `goBackwards` flipped) reading `x_T..x_1`, each
 * with its own posterior `q_f(K_f, b_f)`, `q_b(K_b, b_b)` (independent draws per call). With
 * `h^f` the forward output and `h^b` the backward one (re-reversed in time with
 * `returnSequences`, so step `t` of both is aligned), the output is, per `mergeMode`,
 *
 * $$\text{concat: } [h^f, h^b],\quad \text{sum: } h^f + h^b,\quad \text{mul: } h^f \odot h^b,\quad
 *   \text{ave: } \tfrac12 (h^f + h^b),\quad \text{null: the list } [h^f, h^b],$$
 *
 * followed by the states of both directions with `returnState` (`[y, h^f_T, (c^f_T,) h^b_T,
 * (c^b_T)]`); initial states are given as TF.js takes them (forward states first, then backward).
 * The two directions are independent under the posterior and the prior, so
 *
 * $$\mathrm{KL}\big(q \,\|\, p\big) = \mathrm{KL}(q_f \,\|\, p_f) + \mathrm{KL}(q_b \,\|\, p_b),$$
 *
 * which {@link BidirectionalVariational.kl} returns (and the model-level KL sums, since
 * `bayesianLayers` reaches both directions). In `'mean'` mode it is TF.js's `Bidirectional` with
 * the posterior means as weights.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { type BayesianMode } from './bayesian_args.js';
import { RecurrentVariational } from './recurrent_variational.js';
import {
  checkWrapperArgs,
  tfjsLayerClass,
  wrappedLayers,
  type TfjsBidirectional,
} from './tfjs_wrappers.js';

/** How the two directions' outputs are combined (`null`: both returned, a list of two). */
export type BidirectionalMergeMode = 'concat' | 'sum' | 'mul' | 'ave' | null;

/** The merge modes of {@link BidirectionalMergeMode}. */
export const BIDIRECTIONAL_MERGE_MODES: readonly BidirectionalMergeMode[] = [
  'concat',
  'sum',
  'mul',
  'ave',
  null,
];

/** Arguments of {@link BidirectionalVariational}: TF.js's `BidirectionalLayerArgs`. */
export interface BidirectionalVariationalArgs {
  /** The Bayesian recurrent layer to run in both directions (its config is copied twice). */
  layer: RecurrentVariational;
  /** How the outputs are combined. Default `'concat'` (TF.js's default). */
  mergeMode?: BidirectionalMergeMode;
  /** Input shape without the batch (for a first layer of a Sequential). */
  inputShape?: (number | null)[];
  /** Input shape with the batch. */
  batchInputShape?: (number | null)[];
  /** Batch size with `inputShape`. */
  batchSize?: number;
  /** Layer name. */
  name?: string;
  /** Whether the weights are trained. Default true. */
  trainable?: boolean;
  /** Input dtype (float32). */
  dtype?: tf.DataType;
  /** Input dtype of a first layer. */
  inputDType?: tf.DataType;
}

type BidirectionalCtor = new (args: BidirectionalVariationalArgs) => TfjsBidirectional;

/** The checked arguments (before TF.js's constructor copies the layer). */
function checkArgs(args: BidirectionalVariationalArgs): BidirectionalVariationalArgs {
  const a = checkWrapperArgs(
    args,
    'BidirectionalVariational',
    ['mergeMode'],
    (l) => l instanceof RecurrentVariational,
    'a Bayesian recurrent layer (an LSTM, GRU or SimpleRNN class of layers, e.g. LSTMReparam)',
  );
  if (a.mergeMode !== undefined && !BIDIRECTIONAL_MERGE_MODES.includes(a.mergeMode)) {
    throw new ArgumentError(
      'mergeMode',
      `expected 'concat', 'sum', 'mul', 'ave' or null, got ${JSON.stringify(a.mergeMode)}`,
    );
  }
  return a;
}

/**
 * Bayesian bidirectional recurrent layer (module documentation): TF.js's `Bidirectional` whose two
 * directions are Bayesian recurrent layers; registered for serialization as
 * `'BidirectionalVariational'`.
 * @example
 * ```ts
 * const bi = new layers.BidirectionalVariational({
 *   layer: new layers.LSTMFlipout({ units: 8 }),
 *   mergeMode: 'concat',
 * });
 * const y = bi.apply(tf.input({ shape: [20, 4] })); // [null, 16]
 * ```
 */
export class BidirectionalVariational extends tfjsLayerClass<BidirectionalCtor>('Bidirectional') {
  static className = 'BidirectionalVariational';

  /**
   * @param args the Bayesian recurrent layer and the merge mode.
   * @throws ArgumentError naming `layer` when it is not a Bayesian recurrent layer, `mergeMode`
   *   for another mode, or an unknown argument.
   */
  constructor(args: BidirectionalVariationalArgs) {
    super(checkArgs(args));
  }

  /**
   * TF.js's `Bidirectional.apply`, with the initial states checked first: the forward
   * direction's states then the backward one's (`2 * stateCount` tensors, given as
   * `kwargs.initialState` or after the input in a list).
   * @throws ArgumentError naming `initialState` for another number of states.
   */
  override apply(
    inputs: tf.Tensor | tf.Tensor[] | tf.SymbolicTensor | tf.SymbolicTensor[],
    kwargs?: Record<string, unknown>,
  ): tf.Tensor | tf.Tensor[] | tf.SymbolicTensor | tf.SymbolicTensor[] {
    const given = kwargs?.['initialState'];
    const n =
      Array.isArray(inputs) && inputs.length > 1
        ? inputs.length - 1
        : given == null
          ? 0
          : Array.isArray(given)
            ? given.length
            : 1;
    const per = this.forward.states.length;
    if (n !== 0 && n !== 2 * per) {
      throw new ArgumentError(
        'initialState',
        `layer '${this.name}' takes ${2 * per} initial states (${per} of the forward direction, ` +
          `then ${per} of the backward one), got ${n}`,
      );
    }
    return super.apply(inputs, kwargs);
  }

  /** The forward direction (`forward_<name>`). */
  get forward(): RecurrentVariational {
    return wrappedLayers(this)[0] as RecurrentVariational;
  }

  /** The backward direction (`backward_<name>`, reading the sequence from its end). */
  get backward(): RecurrentVariational {
    return wrappedLayers(this)[1] as RecurrentVariational;
  }

  /** The prediction mode of both directions (set on both; read from the forward one). */
  get mode(): BayesianMode {
    return this.forward.mode;
  }

  set mode(mode: BayesianMode) {
    if (mode !== 'sample' && mode !== 'mean') {
      throw new ArgumentError('mode', `expected 'sample' or 'mean', got '${String(mode)}'`);
    }
    this.forward.mode = mode;
    this.backward.mode = mode;
  }

  /**
   * The KL terms `model.fit` adds to the loss: both directions' (TF.js's `Bidirectional` would
   * report those of the unbuilt layer it was made from, none).
   */
  override get losses(): tf.layers.Layer['losses'] {
    return [...this.forward.losses, ...this.backward.losses];
  }

  /**
   * `KL(q_f || p_f) + KL(q_b || p_b)`, the sum over both directions (module documentation).
   * @throws ArgumentError naming `layer` before the wrapper is built.
   */
  kl(): tf.Scalar {
    return tf.tidy(() => tf.add(this.forward.kl(), this.backward.kl()) as tf.Scalar);
  }
}
tf.serialization.registerClass(
  BidirectionalVariational as unknown as tf.serialization.SerializableConstructor<tf.layers.Layer>,
);
