/**
 * Provenance of the tensors of one run of a model (Pyro's `pyro.ops.provenance` and
 * `TrackProvenance`), read off tfjs's gradient tape.
 *
 * Pyro wraps each site's value in a `ProvenanceTensor` whose set of site names flows through
 * every torch op. tfjs has no tensor subclassing, but its engine records every kernel it runs
 * (inputs and outputs, by tensor id) while a gradient tape is on. So the model runs once with a
 * tape on, every sample site's value (and every param's) is replaced by a fresh copy made with
 * the tape off (a *source*: nothing upstream of it is on the tape), and the provenance of any
 * tensor made during the run is the set of sources reachable backwards from it:
 *
 * $$\operatorname{prov}(t) = \{\, s \in \text{sources} : s \leadsto t \text{ on the tape} \,\}$$
 *
 * Limits (as Pyro's): only data flow through tfjs kernels is seen. A value read to the host
 * (`dataSync`, `arraySync`) and made into a tensor again, or a tensor captured in the closure of
 * a `tf.customGrad` function instead of being passed as its input, loses its provenance;
 * control flow on host values (`if (x.dataSync()[0] > 0) ...`) is not a dependency.
 */
import * as tf from '@tensorflow/tfjs';
import type { Distribution } from '../../distributions/distribution.js';
import { ExpandedDistribution } from '../../distributions/expanded.js';
import { Independent } from '../../distributions/independent.js';
import { MaskedDistribution } from '../../distributions/masked.js';
import { ArgumentError } from '../../utils/errors.js';
import { restoreSeedState, seedState } from '../../utils/seed.js';
import { Delta } from '../../distributions/delta.js';
import { Messenger } from '../messenger.js';
import type { Message } from '../runtime.js';
import { enableValidation, isValidationEnabled } from '../site_validation.js';
import { TraceMessenger } from '../handlers/trace.js';

/** The part of a tfjs tape node this module reads (tfjs-core `TapeNode`). */
interface TapeNode {
  inputs: Record<string, tf.Tensor | undefined>;
  outputs: tf.Tensor[];
  saved?: tf.Tensor[];
}

/** The part of tfjs's engine state this module reads and sets (tfjs-core `EngineState`). */
interface EngineTapeState {
  gradientDepth: number;
  activeTape: TapeNode[] | null;
}

function engineState(): EngineTapeState {
  return (tf.engine() as unknown as { state: EngineTapeState }).state;
}

/** `fn` without the wrappers `expand`, `toEvent` and `mask` (Pyro's `base_dist` chain). */
export function unwrapDistribution(fn: Distribution): Distribution {
  let d = fn;
  while (
    d instanceof ExpandedDistribution ||
    d instanceof Independent ||
    d instanceof MaskedDistribution
  ) {
    d = d.base;
  }
  return d;
}

/**
 * Whether site `msg` is a deterministic site: `deterministic(...)` or a sample site of a `Delta`
 * (also expanded by a plate, made an event or masked).
 */
export function isDeterministicSite(msg: Message): boolean {
  if (msg.type !== 'sample') return false;
  if (msg.infer.deterministic === true) return true;
  return msg.fn !== null && unwrapDistribution(msg.fn) instanceof Delta;
}

/**
 * Pyro's `is_sample_site`: a sample site that is not a masked-out observation nor, unless
 * `includeDeterministic`, a deterministic (`Delta`) site.
 */
export function isSampleSite(msg: Message, includeDeterministic: boolean): boolean {
  if (msg.type !== 'sample') return false;
  if (includeDeterministic) return true;
  if (msg.isObserved && msg.mask === false) return false;
  return !isDeterministicSite(msg);
}

/**
 * Replaces the value of every tracked site with a copy made off the tape, so that the copy is a
 * source of provenance named by the site (Pyro's `TrackProvenance`). @internal
 */
class TrackProvenance extends Messenger {
  /** Source tensor id -> site name. */
  readonly sources = new Map<number, string>();
  constructor(
    private readonly includeDeterministic: boolean,
    private readonly state: EngineTapeState,
  ) {
    super();
  }
  override postprocessMessage(msg: Message): void {
    const tracked =
      msg.type === 'param' ||
      (msg.type === 'sample' && isSampleSite(msg, this.includeDeterministic));
    if (!tracked || msg.value === null) return;
    const depth = this.state.gradientDepth;
    this.state.gradientDepth = 0; // tape off: the copy has no tape node, nothing upstream
    try {
      msg.value = tf.clone(msg.value);
    } finally {
      this.state.gradientDepth = depth;
    }
    this.sources.set(msg.value.id, msg.name);
  }
  /** A scan's step (the values the steps use are sources of the scanned site too). */
  postprocessScanStep(msg: Message): void {
    this.postprocessMessage(msg);
  }
}

/** What {@link trackProvenance} hands to its reader, valid only inside the reader. */
export interface ProvenanceRun {
  /** The sites of the run in execution order (values are the source copies). */
  sites: Message[];
  /**
   * The names of the tracked sites (sample sites and params) on which `t` depends; `t` must have
   * been made during the run or inside the reader.
   */
  provenance(t: tf.Tensor): Set<string>;
  /**
   * The provenance of site `msg`'s log-density at its value (Pyro's
   * `get_provenance(fn.log_prob(value))`; for a masked distribution, also of its base's, so that a
   * site masked out entirely still shows what its distribution was computed from), the site
   * itself left out. An error of the log-density names the site.
   */
  siteProvenance(msg: Message): Set<string>;
}

/**
 * Run `model(...args)` once under `trace` with provenance tracking, and call `read` with the
 * run while the tape is still on (`what` names the caller in errors, which also say after which
 * site the model threw); everything the run made is freed before returning, also when
 * the model or `read` throws. The global seed stream and the validation flag are restored
 * (Pyro's `fork_rng` and `validation_enabled(False)`). @internal
 */
export function trackProvenance<A extends unknown[], T>(
  what: string,
  model: (...args: A) => unknown,
  args: A,
  includeDeterministic: boolean,
  read: (run: ProvenanceRun) => T,
): T {
  const state = engineState();
  const prevDepth = state.gradientDepth;
  const prevTape = state.activeTape;
  const prevSeed = seedState();
  const prevValidation = isValidationEnabled();
  const tape: TapeNode[] = [];
  state.gradientDepth = prevDepth + 1;
  state.activeTape = tape;
  enableValidation(false);
  try {
    let result: T | undefined;
    tf.tidy(() => {
      const track = new TrackProvenance(includeDeterministic, state);
      const tracer = new TraceMessenger();
      let last: string | undefined;
      const watch = new (class extends Messenger {
        override postprocessMessage(msg: Message): void {
          last = msg.name;
        }
      })();
      try {
        track.run(() => watch.run(() => tracer.run(() => model(...args))));
      } catch (e) {
        // say where the model was; an ArgumentError keeps its class and argument
        const where = last === undefined ? 'before its first site' : `after site '${last}'`;
        let err: Error;
        if (e instanceof ArgumentError) {
          const prefix = `${e.argument}: `;
          const text = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
          err = new ArgumentError(e.argument, `${text} (${what}: the model threw ${where})`);
        } else {
          const text = e instanceof Error ? e.message : String(e);
          err = new Error(`${what}: the model threw ${where}: ${text}`);
        }
        (err as Error & { cause?: unknown }).cause = e;
        throw err;
      }
      const sites = tracer.trace.sites();
      let producers: Map<number, TapeNode> | null = null;
      let indexed = 0;
      const provenance = (t: tf.Tensor): Set<string> => {
        if (producers === null) producers = new Map();
        for (; indexed < tape.length; indexed++) {
          const node = tape[indexed] as TapeNode;
          for (const o of node.outputs) producers.set(o.id, node);
        }
        const out = new Set<string>();
        const seen = new Set<number>([t.id]);
        const stack = [t];
        while (stack.length > 0) {
          const x = stack.pop() as tf.Tensor;
          const src = track.sources.get(x.id);
          if (src !== undefined) {
            out.add(src);
            continue;
          }
          const node = producers.get(x.id);
          if (node === undefined) continue;
          for (const i of Object.values(node.inputs)) {
            if (i === undefined || i === null || seen.has(i.id)) continue;
            seen.add(i.id);
            stack.push(i);
          }
        }
        return out;
      };
      const siteProvenance = (msg: Message): Set<string> => {
        const fn = msg.fn;
        if (fn === null || msg.value === null) return new Set();
        let out: Set<string>;
        try {
          out = provenance(fn.logProb(msg.value));
          let base: Distribution = fn;
          while (base instanceof MaskedDistribution) {
            base = base.base;
            for (const s of provenance(base.logProb(msg.value))) out.add(s);
          }
        } catch (e) {
          throw new ArgumentError(
            msg.name,
            `site '${msg.name}' (${fn.name}): its log-density at the site's value failed: ` +
              `${e instanceof Error ? e.message : String(e)}`,
          );
        }
        out.delete(msg.name);
        return out;
      };
      result = read({ sites, provenance, siteProvenance });
    });
    return result as T;
  } finally {
    for (const node of tape) for (const t of node.saved ?? []) if (!t.isDisposed) t.dispose();
    state.activeTape = prevTape;
    state.gradientDepth = prevDepth;
    enableValidation(prevValidation);
    restoreSeedState(prevSeed);
  }
}
