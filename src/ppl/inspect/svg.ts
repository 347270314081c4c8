/**
 * SVG pictures of models: DOT text laid out by Graphviz compiled to WebAssembly
 * (`@viz-js/viz`, an optional peer dependency with the wasm module embedded: nothing is downloaded
 * at run time; it works in Node and in browsers). It is imported on first use, so the rest of the
 * library does not need it.
 */
import { DeepProbError, ArgumentError } from '../../utils/errors.js';
import { checkRenderOptions, renderModel, type RenderModelOptions } from './render.js';

/** The part of `@viz-js/viz`'s `Viz` this module uses. */
interface Viz {
  render(
    input: string,
    options: { format: string; engine?: string },
  ): {
    status: 'success' | 'failure';
    output?: string;
    errors: { level?: string; message: string }[];
  };
}

let cached: Promise<Viz> | undefined;

/** Instantiate Graphviz once (the module is about 1.5 MB of wasm). */
function loadViz(): Promise<Viz> {
  cached ??= (async () => {
    try {
      const mod = await import('@viz-js/viz');
      return (await mod.instance()) as unknown as Viz;
    } catch (e) {
      cached = undefined;
      throw new DeepProbError(
        `SVG rendering needs the optional package '@viz-js/viz' (${(e as Error).message}): ` +
          `npm install @viz-js/viz, or lay out the DOT text of renderModel with Graphviz`,
      );
    }
  })();
  return cached;
}

/**
 * Lay out Graphviz DOT text as an SVG document (Graphviz's `dot` engine, in WebAssembly).
 *
 * @param dot the DOT text, e.g. from `renderModel`.
 * @returns the SVG text.
 * @throws ArgumentError naming `dot` when Graphviz rejects the text (with its messages);
 * DeepProbError when the optional package `@viz-js/viz` is not installed.
 * @example
 * ```ts
 * const svg = await dotToSvg('digraph { a -> b }');
 * ```
 */
export async function dotToSvg(dot: string): Promise<string> {
  if (typeof dot !== 'string' || dot.trim().length === 0) {
    throw new ArgumentError('dot', `expected non-empty DOT text, got ${typeof dot}`);
  }
  const viz = await loadViz();
  const out = viz.render(dot, { format: 'svg', engine: 'dot' });
  if (out.status !== 'success' || out.output === undefined) {
    const msgs = out.errors.map((e) => e.message.trim()).join('; ');
    throw new ArgumentError('dot', `Graphviz could not lay out the DOT text: ${msgs}`);
  }
  return out.output;
}

/**
 * Render `model(...args)` as an SVG picture: `renderModel`'s DOT text laid out by
 * {@link dotToSvg}. Edges follow provenance, `u -> d` when
 * $u \in \operatorname{prov}(\log p_d(x_d))$ (see `renderModel`).
 *
 * @param model the model, a synchronous function.
 * @param args its arguments.
 * @param options as `renderModel`'s.
 * @returns the SVG text.
 * @example
 * ```ts
 * document.body.innerHTML = await renderModelSvg(model, [data], { renderDistributions: true });
 * ```
 */
export async function renderModelSvg<A extends unknown[]>(
  model: (...args: A) => unknown,
  args: A = [] as unknown as A,
  options: RenderModelOptions = {},
): Promise<string> {
  checkRenderOptions('renderModelSvg', model, args, options);
  return dotToSvg(renderModel(model, args, options));
}
