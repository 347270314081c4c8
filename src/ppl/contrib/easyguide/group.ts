/**
 * A group of an {@link EasyGuide}'s latent sites sampled jointly (Pyro's `easyguide.Group`): the
 * members' unconstrained values packed into one vector of event shape `[E]`, the dims of their
 * common plates kept as batch dims; each member `s` replayed as the point mass at
 * `z_s = T_s(u_s)` with `log q(z_s) += -log|det J_{T_s}(u_s)|`.
 */
import * as tf from '@tensorflow/tfjs';
import type { Distribution } from '../../../distributions/distribution.js';
import { ArgumentError } from '../../../utils/errors.js';
import { Delta } from '../../../distributions/delta.js';
import type { PlateFrame } from '../../runtime.js';
import { sample } from '../../runtime.js';
import type { EasyGuide } from './easyguide.js';
import type { PrototypeSite } from './prototype.js';

/** Options of {@link EasyGuide.group}. */
export interface GroupOptions {
  /**
   * The sites' names match this regular expression at their start (Python's `re.match`).
   * Default `'.*'` (every continuous latent site).
   */
  match?: string | RegExp;
}

function shapeStr(s: readonly number[]): string {
  return `[${s.join(',')}]`;
}

const prod = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/**
 * A group of latent sites sampled jointly (Pyro's `easyguide.Group`): their unconstrained values
 * packed into one vector of `eventShape = [E]`, the dims of their common plates kept as batch dims.
 */
export class Group<A extends unknown[]> {
  /** The joint's event shape `[E]`. */
  readonly eventShape: number[];
  /** The plates common to every member (their dims stay batch dims of the joint). */
  readonly commonFrames: PlateFrame[];
  /** Each member's unconstrained shape with 1 at the common plates' dims (flattened into `E`). */
  private readonly batchShapes = new Map<string, number[]>();
  private readonly sizes = new Map<string, number>();
  /** Why the joint cannot be drawn (a member in a subsampled plate not common to the group). */
  private readonly unpackable: ArgumentError | undefined;

  /**
   * @param guide the easy guide.
   * @param prototypeSites the member sites, in model order.
   */
  constructor(
    readonly guide: EasyGuide<A>,
    readonly prototypeSites: readonly PrototypeSite[],
  ) {
    const names = (s: PrototypeSite): Set<string> => new Set(s.cond.map((f) => f.name));
    const first = prototypeSites[0];
    this.commonFrames =
      first === undefined
        ? []
        : first.cond.filter((f) => prototypeSites.every((s) => names(s).has(f.name)));
    const common = new Set(this.commonFrames.map((f) => f.name));
    let e = 0;
    for (const s of prototypeSites) {
      const sub = s.cond.find((f) => f.subsampleSize !== f.size && !common.has(f.name));
      if (sub !== undefined && this.unpackable === undefined) {
        this.unpackable = new ArgumentError(
          s.name,
          `site '${s.name}' is inside the subsampled plate '${sub.name}', which not every ` +
            'site of the group is in: a group packs the dims of plates common to its sites as ' +
            'batch dims, and a subsampled plate must be one of them (make another group)',
        );
      }
      const u = s.bijector.inverseShape(s.shape);
      const batchRank = s.shape.length - s.eventDim;
      const b = u.slice(0, batchRank);
      for (const f of s.cond) if (common.has(f.name)) b[batchRank + f.dim] = 1;
      const size = prod(b) * prod(u.slice(batchRank));
      this.batchShapes.set(s.name, b);
      this.sizes.set(s.name, size);
      e += size;
    }
    this.eventShape = [e];
  }

  /**
   * Every member site as a point mass at a learned value in its support (Pyro's
   * `Group.map_estimate`): {@link EasyGuide.mapEstimate} of each member, in model order.
   * @returns the member sites' values by name.
   */
  mapEstimate(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const s of this.prototypeSites) out[s.name] = this.guide.mapEstimate(s.name);
    return out;
  }

  /** The member sites' names, in order. */
  get siteNames(): string[] {
    return this.prototypeSites.map((s) => s.name);
  }

  /**
   * Draw the joint at the auxiliary site `guideName` (Pyro's `Group.sample`) and replay every
   * member site at its slice, pushed into its support (see the module's formula). A member's
   * own batch dims (plates not common to the group, other batch dims) are packed into `E`, so
   * they must lie right of every common-plate dim the joint has a size at (Pyro's rule that
   * per-site plates be right of the common ones): the slice `u[..., a:b]` is then laid out as
   * the site's batch shape.
   * @param guideName the auxiliary site's name.
   * @param fn the joint: event shape {@link Group.eventShape}, batch shape the common plates'.
   * @param infer further annotations of the auxiliary site (Pyro's `infer`); `isAuxiliary` is
   *   set.
   * @returns `[u, zs]`: the joint draw and the member sites' values by name.
   * @throws ArgumentError naming `guideName` when `fn` has another event shape or `infer` is not
   *   an object; naming a member site whose own batch dims lie left of a common dim of the joint,
   *   or that is inside a subsampled plate not common to the group (its members change with
   *   each draw; {@link mapEstimate} takes such a group).
   */
  sample(
    guideName: string,
    fn: Distribution,
    infer: Record<string, unknown> = {},
  ): [tf.Tensor, Record<string, tf.Tensor>] {
    if (typeof guideName !== 'string' || guideName.length === 0) {
      throw new ArgumentError('guideName', `expected a non-empty string, got ${String(guideName)}`);
    }
    if (infer === null || typeof infer !== 'object' || Array.isArray(infer)) {
      throw new ArgumentError('infer', `expected an object of annotations, got ${String(infer)}`);
    }
    if (this.unpackable !== undefined) throw this.unpackable;
    const ev = fn.eventShape;
    if (ev.length !== 1 || ev[0] !== this.eventShape[0]) {
      throw new ArgumentError(
        guideName,
        `group sample '${guideName}': expected a joint of event shape ` +
          `${shapeStr(this.eventShape)} (the group's sites ${this.siteNames.join(', ')} ` +
          `unconstrained and packed), got ${shapeStr(ev)} (declare the vector an event: toEvent(1))`,
      );
    }
    const u = sample(guideName, fn, { infer: { ...infer, isAuxiliary: true } });
    // the joint's batch shape as drawn (the enclosing plates broadcast it)
    const common = u.shape.slice(0, -1);
    for (const s of this.prototypeSites) {
      packable(common, this.batchShapes.get(s.name) as number[], s.name);
    }
    const out: Record<string, tf.Tensor> = {};
    let pos = 0;
    for (const s of this.prototypeSites) {
      const size = this.sizes.get(s.name) as number;
      const b = this.batchShapes.get(s.name) as number[];
      const ue = s.bijector.inverseShape(s.shape).slice(s.shape.length - s.eventDim);
      const batch = broadcast(common, b, s.name);
      const begin = [...common.map(() => 0), pos];
      const part = tf.reshape(tf.slice(u, begin, [...common, size]), [...batch, ...ue]);
      pos += size;
      const { y, logDet } = s.bijector.forwardAndLogDet(part);
      const k = logDet.rank - (y.rank - s.eventDim);
      const ld =
        k > 0
          ? tf.sum(
              logDet,
              Array.from({ length: k }, (_, j) => logDet.rank - k + j),
            )
          : logDet;
      const delta = new Delta(y, s.eventDim, { logDensity: tf.neg(ld) });
      out[s.name] = this.guide.inSitePlates(s, () => sample(s.name, delta));
    }
    return [u, out];
  }
}

/**
 * Check that a member's own batch dims (`site`, 1 at the common plates) are all right of the
 * joint's batch dims of size > 1 (`joint`), right-aligned: then the member's slice of the joint,
 * `[...joint, size]`, reshapes to its batch shape without mixing the joint's batch members.
 */
function packable(joint: readonly number[], site: readonly number[], name: string): void {
  const rank = Math.max(joint.length, site.length);
  const at = (s: readonly number[], i: number): number => s[s.length - rank + i] ?? 1;
  let lastJoint = -1;
  let firstSite = rank;
  for (let i = 0; i < rank; i++) {
    if (at(joint, i) !== 1) lastJoint = i;
    if (at(site, i) !== 1 && firstSite === rank) firstSite = i;
  }
  if (lastJoint >= firstSite) {
    throw new ArgumentError(
      name,
      `site '${name}': its own batch dim ${firstSite - rank} (size ${at(site, firstSite)}, a ` +
        `plate not common to the group or a batch dim) is left of the joint's batch dim ` +
        `${lastJoint - rank} (size ${at(joint, lastJoint)}): a group packs each site's own dims ` +
        `into its event, so they must be right of the common plates' dims (as Pyro's Group; ` +
        `give the site another group, or a plate dim right of the common plates)`,
    );
  }
}

/** Right-aligned broadcast of two shapes (a member's batch against the joint's). */
function broadcast(a: readonly number[], b: readonly number[], site: string): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) {
      throw new ArgumentError(
        site,
        `site '${site}': the joint's batch shape ${shapeStr(a)} does not broadcast with the ` +
          `site's ${shapeStr(b)} (sample the group inside its common plates, this.plate(...))`,
      );
    }
    out.push(x === 1 ? y : x);
  }
  return out;
}
