// Screenshot an uncertainty report in headless Chromium:
//   npx tsx scripts/screenshot-report.ts runs/report/report.html runs/report/report.png [width]
// Exits with code 2 (and a message) when /usr/bin/chromium is missing.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

/** Chromium flags for a sandbox-less, offline, headless run. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

/** Load `html` in headless Chromium and write a full-page PNG to `png`; returns console errors. */
export async function screenshotReport(html: string, png: string, width = 1280): Promise<string[]> {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
  });
  const errors: string[] = [];
  try {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
    await page.goto(pathToFileURL(resolve(html)).href, { waitUntil: 'load' });
    await page.screenshot({ path: png, fullPage: true });
  } finally {
    await browser.close();
  }
  return errors;
}

if (
  process.argv[1] !== undefined &&
  import.meta.url === pathToFileURL(resolve(process.argv[1])).href
) {
  const [html, png, w] = process.argv.slice(2);
  if (html === undefined || png === undefined) {
    console.error('usage: screenshot-report.ts REPORT.html OUT.png [width]');
    process.exit(1);
  }
  if (!existsSync('/usr/bin/chromium')) {
    console.error('screenshot-report: /usr/bin/chromium not found (apt-get install -y chromium)');
    process.exit(2);
  }
  const errors = await screenshotReport(html, png, w !== undefined ? Number(w) : 1280);
  console.log(
    `screenshot: ${png}${errors.length ? ` (${errors.length} console errors: ${errors.join('; ')})` : ''}`,
  );
}
