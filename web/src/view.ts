/**
 * Rendering of a {@link Prediction}: the predictive distribution as bars with the spread of the MC
 * samples (min-max whisker and one dot per sample), the uncertainty meters and the verdict.
 * Plain SVG/DOM, no framework.
 */
import type { ModelEntry } from './manifest.js';
import type { Prediction, Verdict } from './predict.js';

const SVG = 'http://www.w3.org/2000/svg';

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
  text?: string,
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Deterministic jitter in [-0.5, 0.5) for the strip plot (golden-ratio sequence). */
function jitter(i: number): number {
  return ((i * 0.618034) % 1) - 0.5;
}

/**
 * Bars of the mean predictive distribution; for the Bayesian model also each MC sample `p_s` as a
 * dot and the per-class min-max range as a whisker.
 */
export function renderBars(host: HTMLElement, p: Prediction, classNames: string[]): void {
  const W = 520;
  const H = 240;
  const top = 22;
  const bottom = 36;
  const left = 34;
  const plotH = H - top - bottom;
  const colW = (W - left - 8) / p.probs.length;
  const y = (v: number): number => top + plotH * (1 - v);
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'bars', role: 'img' });
  root.setAttribute('aria-label', 'predictive distribution over the classes');
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    root.append(svg('line', { x1: left, x2: W - 8, y1: y(t), y2: y(t), class: 'grid' }));
    root.append(
      svg('text', { x: left - 4, y: y(t) + 4, class: 'tick', 'text-anchor': 'end' }, `${t * 100}%`),
    );
  }
  p.probs.forEach((v, k) => {
    const x0 = left + k * colW;
    const cx = x0 + colW / 2;
    const bw = colW * 0.62;
    root.append(
      svg('rect', {
        x: cx - bw / 2,
        y: y(v),
        width: bw,
        height: Math.max(0, plotH * v),
        class: k === p.top ? 'bar top' : 'bar',
      }),
    );
    let labelAt = v;
    if (p.samples !== undefined) {
      const col = p.samples.map((s) => s[k] ?? 0);
      const lo = Math.min(...col);
      const hi = Math.max(...col);
      labelAt = Math.max(v, hi);
      root.append(svg('line', { x1: cx, x2: cx, y1: y(lo), y2: y(hi), class: 'whisker' }));
      for (const e of [lo, hi]) {
        root.append(svg('line', { x1: cx - 6, x2: cx + 6, y1: y(e), y2: y(e), class: 'whisker' }));
      }
      col.forEach((s, i) => {
        root.append(
          svg('circle', { cx: cx + jitter(i) * bw * 0.8, cy: y(s), r: 2.3, class: 'sample' }),
        );
      });
    }
    root.append(
      svg(
        'text',
        { x: cx, y: Math.max(12, y(labelAt) - 5), class: 'pct', 'text-anchor': 'middle' },
        `${(v * 100).toFixed(0)}`,
      ),
    );
    root.append(
      svg(
        'text',
        { x: cx, y: H - bottom + 16, class: 'cls', 'text-anchor': 'middle' },
        classNames[k] ?? String(k),
      ),
    );
  });
  if (p.samples !== undefined) {
    root.append(
      svg(
        'text',
        { x: W - 8, y: H - 4, class: 'legend', 'text-anchor': 'end' },
        `bars: mean of ${p.samples.length} MC samples · dots: each sample p_s · whiskers: min–max`,
      ),
    );
  }
  host.replaceChildren(root);
}

/** One labelled meter with an optional threshold mark. */
function meter(
  label: string,
  testId: string,
  value: number,
  max: number,
  threshold: number | undefined,
  hint: string,
): HTMLElement {
  const row = document.createElement('div');
  row.className = 'meter';
  const over = threshold !== undefined && value > threshold;
  const frac = Math.min(1, Math.max(0, value / max));
  const mark =
    threshold === undefined
      ? ''
      : `<span class="mark" style="left:${(Math.min(1, threshold / max) * 100).toFixed(1)}%" title="threshold ${threshold.toFixed(3)}"></span>`;
  row.innerHTML = `
    <div class="meter-label"><span>${label}</span><span class="value${over ? ' over' : ''}" data-testid="${testId}">${value.toFixed(3)}</span></div>
    <div class="meter-track"><span class="fill${over ? ' over' : ''}" style="width:${(frac * 100).toFixed(1)}%"></span>${mark}</div>
    <div class="meter-hint">${hint}</div>`;
  return row;
}

/** The uncertainty meters of a prediction. */
export function renderMeters(host: HTMLElement, p: Prediction, entry: ModelEntry): void {
  const t = entry.thresholds;
  const logK = Math.log(p.probs.length);
  const rows: HTMLElement[] = [
    meter(
      'Total uncertainty: predictive entropy H[p̄]',
      'entropy',
      p.entropy,
      logK,
      p.kind === 'evidential' ? undefined : t.entropy,
      `nats, 0 … log ${p.probs.length} = ${logK.toFixed(2)}`,
    ),
  ];
  if (p.aleatoric !== undefined) {
    rows.push(
      meter(
        'Aleatoric: expected entropy E[H[pₛ]]',
        'aleatoric',
        p.aleatoric,
        logK,
        undefined,
        'noise in the input itself: ambiguous strokes, digits that look alike',
      ),
    );
  }
  if (p.epistemic !== undefined) {
    rows.push(
      meter(
        'Epistemic: mutual information H[p̄] − E[H[pₛ]]',
        'epistemic',
        p.epistemic,
        logK,
        t.epistemic,
        'disagreement between weight samples: the model has not seen inputs like this',
      ),
    );
  }
  if (p.u !== undefined) {
    rows.push(
      meter(
        'Evidential uncertainty u = K/S',
        'u',
        p.u,
        1,
        t.u,
        `Dirichlet strength S = ${(p.probs.length / p.u).toFixed(1)}, total evidence ${(p.evidence ?? 0).toFixed(1)}`,
      ),
    );
  }
  if (p.kind === 'plain') {
    const note = document.createElement('p');
    note.className = 'meter-hint';
    note.textContent =
      'A plain network has one set of weights: it cannot separate aleatoric from epistemic uncertainty, and its softmax is often confident on inputs it has never seen.';
    rows.push(note);
  }
  host.replaceChildren(...rows);
}

/** The verdict banner. */
export function renderVerdict(
  host: HTMLElement,
  p: Prediction,
  v: Verdict,
  classNames: string[],
): void {
  const name = classNames[p.top] ?? String(p.top);
  const conf = ((p.probs[p.top] ?? 0) * 100).toFixed(1);
  host.className = v.knows ? 'verdict knows' : 'verdict unsure';
  host.dataset.knows = String(v.knows);
  host.innerHTML = v.knows
    ? `<strong data-testid="answer">It's a ${name}</strong> <span>(${conf}%)</span><small>${v.reason}</small>`
    : `<strong data-testid="answer">I don't know</strong> <span>(best guess ${name}, ${conf}%)</span><small>${v.reason}</small>`;
}
