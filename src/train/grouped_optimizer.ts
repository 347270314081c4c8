/**
 * Parameter groups for any tfjs optimizer (PyTorch's `param_groups`, Pyro's per-parameter
 * `optim_args`): one optimizer per group, each with its own learning-rate multiplier, behind one
 * `tf.Optimizer`. Used by the trainer to let the posterior scales `rho` of Bayesian layers move
 * faster than the means (`--rho-lr-scale`): Adam moves a parameter by at most about `lr` per
 * step, so with a learning rate that suits the means the scales stay near their initial value
 * for the whole run.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';

/** A named tensor (tfjs-core's `NamedTensor`, not re-exported by @tensorflow/tfjs). */
interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/** One group: the variables whose name `matches`, updated with `lr * lrScale`. */
export interface ParamGroup {
  /** Which variables (by their engine name) belong to this group. */
  matches: (variableName: string) => boolean;
  /** Multiplier of the shared learning rate for this group (> 0). */
  lrScale: number;
}

/** Builds the optimizer of one group at a given learning rate. */
export type OptimizerFactory = (learningRate: number) => tf.Optimizer;

/** The optimizer state names (`<variable>/m`, `<variable>/v`, ...) to their variable's name. */
function variableOf(stateName: string): string {
  const i = stateName.lastIndexOf('/');
  return i < 0 ? stateName : stateName.slice(0, i);
}

/**
 * One optimizer over several parameter groups: variable `v` of group `g` is updated by
 * `make(lr * g.lrScale)`; variables matched by no group use `make(lr)`. The first matching group
 * wins. State (`getWeights`) is the concatenation of the groups' states under their own names
 * (one `iter`), so a checkpoint reads back into the same grouping, and a checkpoint of a plain
 * optimizer of the same kind reads into it (names route each entry).
 */
export class GroupedOptimizer extends tf.Optimizer {
  private lr: number;
  private readonly parts: { group: ParamGroup | null; optimizer: tf.Optimizer }[];

  /**
   * @param make builds one member optimizer at a learning rate (e.g. `(lr) => tf.train.adam(lr)`).
   * @param learningRate the shared learning rate (> 0).
   * @param groups the parameter groups (a trailing default group with scale 1 is added).
   */
  constructor(make: OptimizerFactory, learningRate: number, groups: readonly ParamGroup[]) {
    super();
    if (!(Number.isFinite(learningRate) && learningRate > 0)) {
      throw new ArgumentError('learningRate', `expected a positive number, got ${learningRate}`);
    }
    groups.forEach((g, i) => {
      if (!(Number.isFinite(g.lrScale) && g.lrScale > 0)) {
        throw new ArgumentError(
          `groups[${i}].lrScale`,
          `expected a positive number, got ${g.lrScale}`,
        );
      }
    });
    this.lr = learningRate;
    this.parts = [
      ...groups.map((group) => ({ group, optimizer: make(learningRate * group.lrScale) })),
      { group: null, optimizer: make(learningRate) },
    ];
  }

  /** The shared learning rate; setting it rescales every group's. */
  get learningRate(): number {
    return this.lr;
  }

  set learningRate(lr: number) {
    this.lr = lr;
    for (const p of this.parts) {
      (p.optimizer as unknown as { learningRate: number }).learningRate =
        lr * (p.group?.lrScale ?? 1);
    }
  }

  /** The first part whose group matches (the trailing default part matches every name). */
  private partOf(variableName: string): number {
    return this.parts.findIndex((p) => p.group === null || p.group.matches(variableName));
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const split: tf.NamedTensorMap[] = this.parts.map(() => ({}));
    const entries: [string, tf.Tensor][] = Array.isArray(variableGradients)
      ? variableGradients.map((v) => [v.name, v.tensor])
      : Object.entries(variableGradients);
    for (const [name, g] of entries) (split[this.partOf(name)] as tf.NamedTensorMap)[name] = g;
    this.parts.forEach((p, i) => {
      const part = split[i] as tf.NamedTensorMap;
      if (Object.keys(part).length > 0) p.optimizer.applyGradients(part);
    });
    this.incrementIterations();
  }

  override async getWeights(): Promise<NamedTensor[]> {
    const out: NamedTensor[] = [await this.saveIterations()];
    for (const p of this.parts) {
      const w = await p.optimizer.getWeights();
      // each member's own `iter` is a fresh scalar: keep the one shared count
      for (const e of w) {
        if (e.name === 'iter') e.tensor.dispose();
        else out.push(e);
      }
    }
    return out;
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    const iter = this.iterations;
    const byPart: NamedTensor[][] = this.parts.map(() => []);
    for (const e of rest) (byPart[this.partOf(variableOf(e.name))] as NamedTensor[]).push(e);
    for (let i = 0; i < this.parts.length; i++) {
      const own = byPart[i] as NamedTensor[];
      if (own.length === 0) continue;
      const count = tf.scalar(iter, 'int32');
      try {
        await (this.parts[i] as { optimizer: tf.Optimizer }).optimizer.setWeights([
          { name: 'iter', tensor: count },
          ...own,
        ]);
      } finally {
        count.dispose();
      }
    }
  }

  override dispose(): void {
    for (const p of this.parts) p.optimizer.dispose();
    super.dispose();
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.lr, groups: this.parts.length - 1 };
  }

  /** @nocollapse */
  static get className(): string {
    return 'GroupedOptimizer';
  }
}
