/**
 * The bookkeeping of enumeration dims (Pyro's `_EnumAllocator`): which negative batch dim each
 * enumerated site takes, `d = d_0 - i` for global sites and the rightmost unseen dim left of the
 * plates for sites inside `markov`, and which site holds each dim a site sees ({@link DimLabels}).
 */

/** Which enumerated variable (label `e:name`) holds each enumeration dim, as a site sees it. */
export type DimLabels = Map<number, string>;

/**
 * The enumeration dims of one run (Pyro's `_EnumAllocator` with the `EnumMessenger` bookkeeping).
 *
 * A site outside every `markov` context is *global*: it takes a fresh dim, left of every dim used
 * so far, and stays visible to every later site. A site inside a `markov` context is *local*: it
 * takes the rightmost dim left of the plates that no site visible to it holds (the global dims,
 * and the dims carried by the values of the sites in its markov scope), so a first-order chain
 * alternates between two dims. Each site records the dims it sees ({@link DimLabels}): how the
 * factor graph reads the dims of its log-density.
 */
export class EnumDimAllocator {
  private nextFresh: number;
  private readonly global: DimLabels = new Map();
  private readonly valueDims = new Map<string, DimLabels>();
  private readonly depths = new Map<string, number>();

  constructor(readonly firstAvailableDim: number) {
    this.nextFresh = firstAvailableDim;
  }

  /** The dims a site with the markov scope `scope` (none: outside `markov`) sees. */
  visible(scope: ReadonlyMap<string, number> | undefined): DimLabels {
    const seen: DimLabels = new Map(this.global);
    if (scope === undefined) return seen;
    for (const [name, count] of scope) {
      // a site is visible when every markov context that encloses it still sees it
      if (this.depths.get(name) !== count) continue;
      for (const [d, label] of this.valueDims.get(name) ?? []) seen.set(d, label);
    }
    return seen;
  }

  /** The dim for a new enumerated site: fresh when global, the rightmost unseen one when local. */
  allocate(label: string, local: boolean, seen: DimLabels): number {
    let dim: number;
    if (local) {
      dim = this.firstAvailableDim;
      while (seen.has(dim) || this.global.has(dim)) dim--;
    } else {
      dim = this.nextFresh;
      this.global.set(dim, label);
    }
    this.nextFresh = Math.min(this.nextFresh, dim - 1);
    return dim;
  }

  /** Record the dims the value of site `name` carries and its markov depth. */
  record(name: string, depth: number, dims: DimLabels): void {
    this.valueDims.set(name, dims);
    this.depths.set(name, depth);
  }
}
