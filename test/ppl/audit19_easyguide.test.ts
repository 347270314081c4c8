/**
 * Audit 19, Pyro's `pyro.contrib.easyguide` as a user: a group's member whose own plate lies
 * left of the group's common plate (Pyro refuses it: the member's slice of the joint cannot be
 * laid out as its batch shape), `Group.map_estimate`, and `Group.sample(..., infer)`.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectArgumentError } from '../helpers.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

/** c_b in plate B (size 3); s_{a,b} in plates B and A (size 2): B common to the group. */
function twoPlates(dimA: number, dimB: number): () => void {
  return () => {
    ppl.plate('B', 3, { dim: dimB }, () => {
      ppl.sample('c', new D.Normal(0, 1));
      ppl.plate('A', 2, { dim: dimA }, () => ppl.sample('s', new D.Normal(0, 1)));
    });
  };
}

/** The values of the group's sites after one guide run drawing the joint `Delta(u)`. */
function drawn(
  model: () => void,
  u: tf.Tensor,
  inPlate: boolean,
): { c: tf.Tensor; s: tf.Tensor; dispose: () => void } {
  const g = ppl.easyGuide(model, (self) => {
    const grp = self.group();
    const draw = (): unknown => grp.sample('joint', new ppl.Delta(u, 1));
    return inPlate ? self.plate('B', draw) : draw();
  });
  const tr = ppl.trace(() => g.call()).getTrace();
  return {
    c: tr.get('c')!.value!,
    s: tr.get('s')!.value!,
    dispose: () => {
      tr.dispose();
      g.dispose();
    },
  };
}

describe('EasyGuide groups (audit 19)', () => {
  it('a member plate right of the common plate: member b of B reads row b of the joint', () => {
    // B at dim -2 (common), A at dim -1 (s only): E = 1 (c) + 2 (s) per member of B
    const u = tf
      .tensor2d([
        [0, 1, 2],
        [10, 11, 12],
        [20, 21, 22],
      ])
      .reshape([3, 1, 3]);
    const r = drawn(twoPlates(-1, -2), u, true);
    expect(r.c.reshape([-1]).arraySync()).toEqual([0, 10, 20]);
    // s[b, a] = u[b, 1 + a]
    expect(r.s.arraySync()).toEqual([
      [1, 2],
      [11, 12],
      [21, 22],
    ]);
    r.dispose();
    u.dispose();
  });

  it("a member plate left of the common plate is refused naming the site (Pyro's Group)", () => {
    // B at dim -1 (common), A at dim -2: s's slice [3 (B), 2] cannot be laid out as [2 (A), 3 (B)]
    // without mixing B's members (it had been reshaped silently: s[0, 1] = u[0, 2])
    const u = tf.tensor2d([
      [0, 1, 2],
      [10, 11, 12],
      [20, 21, 22],
    ]);
    const g = ppl.easyGuide(twoPlates(-2, -1), (self) =>
      self.plate('B', () => self.group().sample('joint', new ppl.Delta(u, 1))),
    );
    expectArgumentError(() => g.call(), 's', /left of the joint's batch dim -1 \(size 3\)/);
    g.dispose();
    u.dispose();
  });

  it('the same model with the joint drawn outside the common plate: shared by its members', () => {
    // no batch dim on the joint: nothing to mix; c and s are shared by B's members
    const u = tf.tensor1d([0.5, 1, 2]);
    const r = drawn(twoPlates(-2, -1), u, false);
    expect(r.c.arraySync()).toEqual([0.5, 0.5, 0.5]);
    expect(r.s.arraySync()).toEqual([
      [1, 1, 1],
      [2, 2, 2],
    ]);
    r.dispose();
    u.dispose();
  });

  it("Group.mapEstimate: each member a MAP point mass (Pyro's Group.map_estimate)", () => {
    // mu ~ N(0, 1), sd ~ LogNormal(0, 1), x_i ~ N(mu, 1) in a subsampled plate with z_i
    const xs = [1, -2, 3, 0.5];
    const m = (): void => {
      const mu = ppl.sample('mu', new D.Normal(0, 1));
      ppl.sample('sd', new D.LogNormal(0, 1));
      ppl.plate('N', 4, { subsampleSize: 2 }, (idx) => {
        const z = ppl.sample('z', new D.Normal(mu, 1));
        ppl.sample('x', new D.Normal(z, 1), { obs: tf.gather(tf.tensor1d(xs), idx) });
      });
    };
    setSeed(3);
    const g = ppl.easyGuide(m, (self) => self.group().mapEstimate());
    const tr = ppl.trace(() => g.call()).getTrace();
    const names = ['mu', 'sd', 'z'];
    for (const n of names) {
      const site = tr.get(n)!;
      expect(site.fn!.name).toBe('Delta');
      // the point mass sits at the parameter (gathered at the visited members for z)
      const p = ppl.getParamStore().value(g.mapParamName(n));
      if (n === 'z') {
        expect(p.shape).toEqual([4]); // full size
        const idx = tr.get('N')!.value!;
        const want = tf.gather(p, idx);
        expect(site.value!).toBeAllclose(want);
        want.dispose();
      } else {
        expect(site.value!).toBeAllclose(p);
      }
      p.dispose();
    }
    // sd's point mass lies in its support (positive)
    expect((tr.get('sd')!.value!.arraySync() as number) > 0).toBe(true);
    tr.dispose();
    g.dispose();
  });

  it('Group.sample(guideName, fn, infer): the annotations join isAuxiliary', () => {
    const m = (): void => {
      ppl.sample('a', new D.Normal(0, 1));
    };
    const g = ppl.easyGuide(m, (self) =>
      self.group().sample('joint', new D.Normal(tf.zeros([1]), 1).toEvent(1), { tag: 'mine' }),
    );
    setSeed(1);
    const tr = ppl.trace(() => g.call()).getTrace();
    expect(tr.get('joint')!.infer).toMatchObject({ tag: 'mine', isAuxiliary: true });
    expectArgumentError(
      () => g.group().sample('j2', new D.Normal(tf.zeros([1]), 1).toEvent(1), 3 as never),
      'infer',
      /expected an object/,
    );
    tr.dispose();
    g.dispose();
  });
});

describe('EasyGuide plates (audit 19)', () => {
  it("a site's missing plates are entered outermost first: the guide's cond is the model's", () => {
    // outer (dim -1) around inner (dim -2): the guide had entered inner first, its site's cond
    // reading [inner, outer] against the model's [outer, inner]
    const m = (): void => {
      ppl.plate('outer', 2, { dim: -1 }, () =>
        ppl.plate('inner', 3, { dim: -2 }, () => ppl.sample('x', new D.Normal(0, 1))),
      );
    };
    setSeed(2);
    const g = ppl.easyGuide(m, (self) => self.mapEstimate('x'));
    const guideTrace = ppl.trace(() => g.call()).getTrace();
    const modelTrace = ppl.trace(m).getTrace();
    const frames = (t: typeof guideTrace): string[] =>
      t.get('x')!.cond.map((f) => `${f.name}@${f.dim}`);
    expect(frames(modelTrace)).toEqual(['outer@-1', 'inner@-2']);
    expect(frames(guideTrace)).toEqual(frames(modelTrace));
    expect(guideTrace.get('x')!.value!.shape).toEqual([3, 2]);
    // a group's member replayed in the same order
    const g2 = ppl.easyGuide(m, (self) =>
      self.group().sample('joint', new D.Normal(tf.zeros([1]), 1).toEvent(1)),
    );
    const t2 = ppl.trace(() => g2.call()).getTrace();
    expect(frames(t2)).toEqual(frames(modelTrace));
    for (const t of [guideTrace, modelTrace, t2]) t.dispose();
    g.dispose();
    g2.dispose();
  });
});

describe('EasyGuide init (audit 19)', () => {
  const m = (): void => {
    const mu = ppl.sample('mu', new D.Normal(3, 1));
    const sd = ppl.sample('sd', new D.LogNormal(0, 1));
    ppl.sample('x', new D.Normal(mu, sd), { obs: tf.scalar(2) });
  };
  const mapStart = (g: ppl.EasyGuide<[]>): number[] => {
    g.call();
    return ['mu', 'sd'].map((n) => {
      const v = ppl.getParamStore().value(g.mapParamName(n));
      const x = v.dataSync()[0] as number;
      v.dispose();
      return x;
    });
  };
  const mapBoth = (self: ppl.EasyGuide<[]>): void => {
    self.mapEstimate('mu');
    self.mapEstimate('sd');
  };

  it("init (Pyro's overridable EasyGuide.init): where the prototype, and so mapEstimate, starts", () => {
    setSeed(7);
    // feasible: T(0) in each support
    expect(mapStart(ppl.easyGuide(m, mapBoth, { init: 'feasible' }))).toEqual([0, 1]);
    ppl.clearParamStore();
    // a function of the site's name and prior draw
    const g = ppl.easyGuide(m, mapBoth, {
      init: (name, draw) => tf.fill(draw.shape, name === 'mu' ? -1.5 : 0.25),
    });
    expect(mapStart(g)).toEqual([-1.5, 0.25]);
    ppl.clearParamStore();
    // initToValue: the given value, the others uniform(-2, 2) unconstrained
    const [mu, sd] = mapStart(ppl.easyGuide(m, mapBoth, { init: ppl.initToValue({ mu: 0.5 }) }));
    expect(mu).toBe(0.5);
    expect(sd).toBeGreaterThan(Math.exp(-2));
    expect(sd).toBeLessThan(Math.exp(2));
    expectArgumentError(
      () => ppl.easyGuide(m, mapBoth, { init: 'middle' as never }),
      'init',
      /expected/,
    );
  });
});

describe('EasyGuide and supports without a bijection (audit 19)', () => {
  it('a ProjectedNormal site is left to the guide; mapEstimate of it names the site', () => {
    // before: the first guide call failed with bijectTo's NotRegisteredError, whatever the guide
    const m = (): void => {
      ppl.sample('dir', new D.ProjectedNormal(tf.tensor1d([1, 0, 0])));
      ppl.sample('r', new D.LogNormal(0, 1));
    };
    setSeed(4);
    const g = ppl.easyGuide(m, (self) => {
      const grp = self.group();
      expect(grp.siteNames).toEqual(['r']);
      grp.sample('joint', new D.Normal(tf.zeros([1]), 1).toEvent(1));
      ppl.sample('dir', new D.ProjectedNormal(tf.tensor1d([0, 1, 0])));
    });
    const tr = ppl.trace(() => g.call()).getTrace();
    expect(tr.get('dir')!.value!.shape).toEqual([3]);
    expect(tr.get('r')!.value!.arraySync() as number).toBeGreaterThan(0);
    tr.dispose();
    const bad = ppl.easyGuide(m, (self) => self.mapEstimate('dir'));
    expectArgumentError(() => bad.call(), 'dir', /no bijection from the reals.*sphere/);
    g.dispose();
    bad.dispose();
  });
});
