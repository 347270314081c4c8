// TypeDoc plugin (`npm run docs`): renders the TeX of doc comments and Markdown pages with KaTeX
// before Markdown sees it (so `_` and `*` inside formulas are not turned into emphasis), and ships
// KaTeX's stylesheet and fonts with the site.
//
// Math syntax: `$$ ... $$` (display, may span lines) and `$ ... $` (inline: no space after the
// opening `$` nor before the closing one, and no digit right after it, so prices like $5 stay
// text). Code spans and fenced code blocks are left alone.
import { cpSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import katex from 'katex';
import { JSX, MarkdownEvent, RendererEvent } from 'typedoc';

const require = createRequire(import.meta.url);

/** Render one formula; a TeX error is reported and the source kept, so the build never breaks. */
function render(tex, displayMode, logger, where) {
  try {
    return katex.renderToString(tex, { displayMode, throwOnError: true, output: 'html' });
  } catch (e) {
    logger.warn(`KaTeX (${where}): ${e instanceof Error ? e.message : String(e)}`);
    return displayMode ? `<pre>${escapeHtml(tex)}</pre>` : `<code>${escapeHtml(tex)}</code>`;
  }
}

function escapeHtml(s) {
  return s.replace(
    /[&<>"]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c],
  );
}

/** Replace the math of the prose parts of `md` (not code) by KaTeX HTML. */
export function renderMath(md, logger = console, where = 'markdown') {
  // Split into fenced code blocks, inline code spans and prose.
  const parts = md.split(/(```[\s\S]*?```|~~~[\s\S]*?~~~|`[^`\n]*`)/g);
  return parts
    .map((part, i) => {
      if (i % 2 === 1) return part; // code
      return part
        .replace(
          /\$\$([\s\S]+?)\$\$/g,
          (_, tex) => `\n\n${render(tex.trim(), true, logger, where)}\n\n`,
        )
        .replace(
          /(^|[^\\$\w])\$(?=\S)([^$\n]*?\S)\$(?!\d)/g,
          (_, pre, tex) => pre + render(tex, false, logger, where),
        );
    })
    .join('');
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  // Before TypeDoc's own Markdown parser (priority 0).
  app.renderer.on(
    MarkdownEvent.PARSE,
    (event) => {
      if (event.parsedText.includes('$')) {
        event.parsedText = renderMath(event.parsedText, app.logger, event.page?.url ?? 'page');
      }
    },
    100,
  );
  app.renderer.hooks.on('head.end', (context) =>
    JSX.createElement('link', {
      rel: 'stylesheet',
      href: context.relativeURL('assets/katex/katex.min.css'),
    }),
  );
  app.renderer.on(RendererEvent.END, (event) => {
    const dist = join(dirname(require.resolve('katex/package.json')), 'dist');
    const out = join(event.outputDirectory, 'assets', 'katex');
    mkdirSync(out, { recursive: true });
    cpSync(join(dist, 'katex.min.css'), join(out, 'katex.min.css'));
    cpSync(join(dist, 'fonts'), join(out, 'fonts'), { recursive: true });
  });
}
