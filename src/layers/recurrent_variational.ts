/**
 * The shared recurrence of the Bayesian recurrent layers (LSTM, GRU, SimpleRNN), with TF.js's
 * `tf.layers.*` layouts. A layer with `g` gate blocks of `units` columns each has one variational
 * kernel, the vertical concatenation `K = [W; U]` of shape `[in + units, g units]` (TF.js's
 * `kernel` `[in, g units]` over its `recurrentKernel` `[units, g units]`), and a bias of
 * `g units` entries; so the base's `outChannels` (the bias length) is `g units`. Mean field
 * `q(K_jk) = N(mu_jk, softplus(rho_jk)^2)`, the same for `b`; the KL is the base's.
 *
 * A cell step asks for the pre-activations of a block of columns `C` from the input `x_t` and a
 * recurrent input `v` (usually `h_{t-1}`; the GRU's candidate uses `r ⊙ h_{t-1}`):
 * `z_C = x_t W_C + v U_C + b_C`. Per call (one forward pass over the sequence), per estimator:
 * - `'reparam'`: one sample `K = mu + σ ⊙ ε` and `b` shared by all time steps and the batch
 *   (bayesian-torch);
 * - `'flipout'`: one perturbation `ΔK = σ ⊙ ε` and Rademacher signs `s_in` `[batch, in + units]`,
 *   `s_out` `[batch, g units]` per example, fixed over time:
 *   `z = [x_t,v] mu + (([x_t,v] ⊙ s_in) ΔK) ⊙ s_out + b`;
 * - `'local'`: local reparameterization of the pre-activations at every step,
 *   `z = [x_t,v] mu + sqrt([x_t,v]^2 σ^2) ⊙ ε_t + b` with fresh `ε_t` per step and block;
 * - `mode: 'mean'`: `K = mu`, `b = mu_b` (deterministic, TF.js's layer with those weights).
 *
 * The bias is sampled once per call. The initial states are 0, or the tensors given as TF.js's
 * RNN layers take them: `layer.apply(x, {initialState: [h0, c0]})` or `layer.apply([x, h0, c0])`
 * (symbolic tensors in a functional model, e.g. a seq2seq decoder started from its encoder's
 * states; each `[batch, units]`, `h` first). The output is `h_T` `[batch, units]`, or every `h_t`
 * `[batch, T, units]` with `returnSequences` (with `goBackwards` the sequence is read from the last
 * step and the outputs are in that processing order, as TF.js); with `returnState` the list
 * `[output, h_T]` (`[output, h_T, c_T]` for an LSTM). A masked step (mask `m_t = 0`) keeps every
 * state: `s_t = s_{t-1} + m_t (s'_t - s_{t-1})`, as TF.js.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError, DeepProbError } from '../utils/errors.js';
import { booleanOption } from '../utils/options.js';
import { applyActivation } from './activations.js';
import { BayesianLayer, type BayesianLayerArgs } from './bayesian_layer.js';
import { type Estimator } from './estimator_registry.js';
import { type RecurrentVariationalArgs } from './recurrent_args.js';
import { gateInputs } from './recurrent_gates.js';

/**
 * A Bayesian recurrent layer: the time loop (masks, `goBackwards`, `returnSequences`) and the
 * per-estimator kernel sampling; a kind gives its number of gate blocks and its {@link cell}.
 */
export abstract class RecurrentVariational extends BayesianLayer {
  /** Hidden size (width of `h_t`); `outChannels = gates * units`. */
  readonly units: number;
  /** Whether every `h_t` is returned. */
  readonly returnSequences: boolean;
  /** Whether the sequence is read backwards. */
  readonly goBackwards: boolean;
  /** Whether the last states are returned after the output (`[output, h_T(, c_T)]`). */
  readonly returnState: boolean;
  /** Number of gate blocks `g` of the kernel's columns. */
  protected abstract readonly gates: number;
  /** Number of states (`h` first): 2 for an LSTM (`h`, `c`), 1 otherwise. */
  protected readonly stateCount: number = 1;

  /** @param args the kind's arguments; `base` the base's ones (see {@link recurrentBaseArgs}). */
  constructor(args: RecurrentVariationalArgs, base: BayesianLayerArgs) {
    super(base, true);
    this.units = args.units;
    this.returnSequences = booleanOption(args.returnSequences, 'returnSequences', false);
    this.goBackwards = booleanOption(args.goBackwards, 'goBackwards', false);
    this.returnState = booleanOption(args.returnState, 'returnState', false);
    this.supportsMasking = true;
  }

  /**
   * One entry per state (`h` first; `h`, `c` for an LSTM), all null: the layer keeps no state
   * between calls (TF.js's `RNN.states` of a non-stateful layer; read by its `Bidirectional`).
   */
  get states(): null[] {
    return Array.from({ length: this.stateCount }, () => null);
  }

  /**
   * TF.js's `RNN.apply`: initial states given as `kwargs.initialState` or after the input in a
   * list (`[x, h0(, c0)]`). Symbolic states become inputs of the layer's node (so a functional
   * model records the connection and rebuilds it from its JSON); concrete ones go to
   * {@link call} as `initialState`.
   * @throws ArgumentError naming `initialState` when the states are given twice, their number is
   *   not the layer's state count, or symbolic and concrete states are mixed.
   */
  override apply(
    inputs: tf.Tensor | tf.Tensor[] | tf.SymbolicTensor | tf.SymbolicTensor[],
    kwargs?: Record<string, unknown>,
  ): tf.Tensor | tf.Tensor[] | tf.SymbolicTensor | tf.SymbolicTensor[] {
    const { initialState, ...rest } = kwargs ?? {};
    let x = inputs;
    let states: unknown = initialState;
    if (Array.isArray(inputs)) {
      if (inputs.length > 1 && initialState != null) {
        throw new ArgumentError(
          'initialState',
          `layer '${this.name}': give the initial states either after the input in the list ` +
            'or as initialState, not both',
        );
      }
      x = inputs[0] as tf.Tensor | tf.SymbolicTensor;
      if (inputs.length > 1) states = inputs.slice(1);
    }
    if (states == null) return super.apply(x, rest);
    const list = (Array.isArray(states) ? states : [states]) as unknown[];
    if (list.length !== this.stateCount) {
      throw new ArgumentError(
        'initialState',
        `layer '${this.name}' has ${this.stateCount} state(s) (${this.stateCount === 2 ? 'h, c' : 'h'}) ` +
          `but ${list.length} initial state(s) were given`,
      );
    }
    const symbolic = list.map((t) => t instanceof tf.SymbolicTensor);
    if (
      symbolic.some((v) => v !== symbolic[0]) ||
      (symbolic[0] === true) !== x instanceof tf.SymbolicTensor
    ) {
      throw new ArgumentError(
        'initialState',
        `layer '${this.name}': the input and its initial states must all be symbolic (a model ` +
          'being built) or all be tensors',
      );
    }
    if (symbolic[0] === true) {
      (list as tf.SymbolicTensor[]).forEach((st, i) => {
        if (st.shape.length !== 2 || st.shape[1] !== this.units) {
          throw new ArgumentError(
            'initialState',
            `layer '${this.name}' expects states [batch, ${this.units}]; state ${i} is ` +
              `[${st.shape.map((d) => (d === null ? 'null' : d)).join(', ')}]`,
          );
        }
      });
      return super.apply([x, ...list] as tf.SymbolicTensor[], rest);
    }
    // checked before the layer is built
    this.checkStates(list, (x as tf.Tensor).shape[0] ?? null);
    return super.apply(x, { ...rest, initialState: list });
  }

  /**
   * One step of the recurrence: the new states (`h` first) from the previous ones, with `z`
   * giving the gate pre-activations of a column block (see `GateInput`, `recurrent_gates.ts`) at this step.
   */
  protected abstract cell(
    z: (v: tf.Tensor, from: number, size: number) => tf.Tensor,
    states: readonly tf.Tensor[],
  ): tf.Tensor[];

  protected channelsOf(inputShape: tf.Shape | number[]): number {
    const c = inputShape[2];
    if (inputShape.length !== 3 || c === null || c === undefined) {
      throw new ArgumentError(
        'inputs',
        `layer '${this.name}' expects inputs of shape [batch, timeSteps, inChannels] with a ` +
          `known last dimension, got [${inputShape.map((d) => (d === null ? 'null' : d)).join(', ')}]`,
      );
    }
    return c;
  }

  protected kernelShape(inChannels: number): number[] {
    return [inChannels + this.units, this.gates * this.units];
  }

  /** `[x, h] K` of one step (the map of the kernel; the recurrence is in {@link call}). */
  protected linear(x: tf.Tensor, kernel: tf.Tensor): tf.Tensor {
    return tf.matMul(x as tf.Tensor2D, kernel as tf.Tensor2D);
  }

  /** Apply the layer's activation `a`. */
  protected act(t: tf.Tensor): tf.Tensor {
    return applyActivation(this.activation, t);
  }

  private estimatorName(): Estimator {
    const estimator = (this.constructor as typeof BayesianLayer).estimator;
    if (estimator === undefined) {
      throw new DeepProbError(
        `${this.getClassName()}: no estimator (use a class of the estimator registry, e.g. ` +
          `${this.getClassName().replace(/Variational$/, '')}Reparam)`,
      );
    }
    return estimator;
  }

  override call(
    inputs: tf.Tensor | tf.Tensor[],
    kwargs: Record<string, unknown>,
  ): tf.Tensor | tf.Tensor[] {
    return tf.tidy(() => {
      const list = Array.isArray(inputs) ? inputs : [inputs];
      const raw = list[0];
      if (raw === undefined) {
        throw new ArgumentError('inputs', `layer '${this.name}' expects an input tensor`);
      }
      this.checkInput(raw);
      if (raw.shape[1] === 0) {
        throw new ArgumentError('inputs', `layer '${this.name}' needs at least one time step`);
      }
      const given = kwargs?.['initialState'] ?? (list.length > 1 ? list.slice(1) : undefined);
      const initial = this.initialStates(given, raw.shape[0] as number);
      const x = this.goBackwards ? tf.reverse(raw, 1) : raw;
      const steps = this.maskSteps(kwargs['mask'], raw);
      const gate = gateInputs(x, {
        ...this.variables(),
        biasMu: this.biasMu,
        biasRho: this.biasRho,
        units: this.units,
        gates: this.gates,
        sample: this.mode === 'sample',
        estimatorOf: () => this.estimatorName(),
      });
      const batch = x.shape[0] as number;
      let states: tf.Tensor[] =
        initial ?? Array.from({ length: this.stateCount }, () => tf.zeros([batch, this.units]));
      const outputs: tf.Tensor[] = [];
      for (let t = 0; t < (x.shape[1] as number); t++) {
        const next = this.cell((v, from, size) => gate(t, v, from, size), states);
        const m = steps?.[t];
        // a masked step keeps the previous state (and repeats the previous output), as tfjs
        states =
          m === undefined
            ? next
            : next.map((s, i) => {
                const prev = states[i] as tf.Tensor;
                return tf.add(prev, tf.mul(m, tf.sub(s, prev)));
              });
        outputs.push(states[0] as tf.Tensor);
      }
      const out = this.returnSequences ? tf.stack(outputs, 1) : (states[0] as tf.Tensor);
      return this.returnState ? [out, ...states] : out;
    });
  }

  /**
   * The checked initial states of a call: `stateCount` tensors `[batch, units]` (`h` first), or
   * null when none are given (zeros).
   * @throws ArgumentError naming `initialState` on a wrong count, shape or a non-tensor.
   */
  private initialStates(given: unknown, batch: number): tf.Tensor[] | null {
    if (given == null) return null;
    return this.checkStates(given, batch).map((s) => tf.cast(s, 'float32'));
  }

  /**
   * `given` as `stateCount` tensors `[batch, units]`.
   * @throws ArgumentError naming `initialState` on a wrong count, shape or a non-tensor.
   */
  private checkStates(given: unknown, batch: number | null): tf.Tensor[] {
    const list = (Array.isArray(given) ? given : [given]) as unknown[];
    const want = `${this.stateCount} tensor(s) [${batch}, ${this.units}] (${this.stateCount === 2 ? 'h, c' : 'h'})`;
    if (list.length !== this.stateCount) {
      throw new ArgumentError(
        'initialState',
        `layer '${this.name}' expects ${want}, got ${list.length} state(s)`,
      );
    }
    return list.map((s, i) => {
      if (
        !(s instanceof tf.Tensor) ||
        s.rank !== 2 ||
        (batch !== null && s.shape[0] !== batch) ||
        s.shape[1] !== this.units
      ) {
        throw new ArgumentError(
          'initialState',
          `layer '${this.name}' expects ${want}; state ${i} is ` +
            (s instanceof tf.Tensor ? `of shape [${s.shape.join(', ')}]` : String(s)),
        );
      }
      return s;
    });
  }

  /**
   * The per-step masks `[batch, 1]` (1 = step used) of a mask `[batch, T]` passed by tfjs (a
   * `Masking` layer or an `Embedding` with `maskZero`), in processing order; null without one.
   */
  private maskSteps(mask: unknown, x: tf.Tensor): tf.Tensor[] | null {
    const m = Array.isArray(mask) ? (mask[0] as unknown) : mask;
    if (!(m instanceof tf.Tensor)) return null;
    const [b, t] = x.shape;
    if (m.rank !== 2 || m.shape[0] !== b || m.shape[1] !== t) {
      throw new ArgumentError(
        'mask',
        `layer '${this.name}' expects a mask of shape [${b}, ${t}], got [${m.shape.join(', ')}]`,
      );
    }
    const f = tf.cast(tf.cast(m, 'bool'), 'float32');
    return tf.unstack(this.goBackwards ? tf.reverse(f, 1) : f, 1).map((s) => tf.expandDims(s, 1));
  }

  /** The output mask: the input mask with `returnSequences`, none otherwise (as tfjs). */
  override computeMask(
    inputs: tf.Tensor | tf.Tensor[],
    mask?: tf.Tensor | tf.Tensor[],
  ): tf.Tensor | tf.Tensor[] {
    void inputs;
    const m = Array.isArray(mask) ? mask[0] : mask;
    // tfjs's own layers return null for "no mask" behind this signature
    const out = (this.returnSequences && m !== undefined ? m : null) as unknown as tf.Tensor;
    return this.returnState ? [out, ...(this.states as unknown as tf.Tensor[])] : out;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const b = shape[0] ?? null;
    const out = this.returnSequences ? [b, shape[1] ?? null, this.units] : [b, this.units];
    if (!this.returnState) return out;
    return [out, ...Array.from({ length: this.stateCount }, () => [b, this.units])];
  }

  override getConfig(): tf.serialization.ConfigDict {
    const { outChannels: _o, hasBias, ...config } = super.getConfig();
    const { units, returnSequences, goBackwards, returnState } = this;
    return {
      ...config,
      useBias: hasBias ?? true,
      units,
      returnSequences,
      goBackwards,
      returnState,
    };
  }
}
