// Loads a crossaz review page in Debian's chromium (headless, through playwright-core) and prints
// what the page did as JSON: console errors, requests, dialogs, the DOM's figures, hostile
// markup, the focus tooltip, print and phone layout, and a screenshot's colour count.
// Usage: node check-page.mjs PAGE.html SCREENSHOT.png
import { pathToFileURL } from 'node:url';
import { launch, pixelPage } from './chromium.mjs';

const [, , pagePath, shotPath] = process.argv;
const browser = await launch();
const out = { console: [], page_errors: [], requests: [], dialogs: [] };
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const url = pathToFileURL(pagePath).href;
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') out.console.push(`${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => out.page_errors.push(String(e)));
  page.on('request', (r) => { if (r.url() !== url) out.requests.push(r.url()); });
  page.on('dialog', async (d) => { out.dialogs.push(d.message()); await d.dismiss(); });
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForTimeout(300);

  out.fields = await page.$$eval('[data-field]', (els) => els.map((e) => ({ field: e.dataset.field, value: e.dataset.value ?? '', text: e.textContent.trim() })));
  out.dom = await page.evaluate(() => ({
    scripts: document.scripts.length,
    images: document.images.length,
    embeds: document.querySelectorAll('iframe, object, embed, link[rel], base').length,
    event_attributes: [...document.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => a.name.startsWith('on'))).length,
    text: document.body.innerText,
    pwned: typeof window.__pwned !== 'undefined',
    sections: [...document.querySelectorAll('main > section > h2')].map((h) => h.textContent.trim()),
    tables: document.querySelectorAll('table').length,
    charts_with_text_alternative: [...document.querySelectorAll('svg[role=img]')].filter((s) => s.querySelector('title') && s.querySelector('desc')).length,
  }));

  // Keyboard focus on a day of the trend shows its exact value.
  await page.focus('g.day');
  out.focus_tip = await page.$eval('g.day:focus .tip', (e) => ({ text: e.textContent.trim(), visibility: getComputedStyle(e).visibility }));

  await page.screenshot({ path: shotPath, fullPage: true });

  // Print: nothing clipped, charts inside the page; and a PDF is made.
  await page.emulateMedia({ media: 'print' });
  out.print = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const clipped = [...document.querySelectorAll('.scroll')].filter((e) => getComputedStyle(e).overflowY !== 'visible' || getComputedStyle(e).maxHeight !== 'none').length;
    const charts_outside = [...document.querySelectorAll('.chart > svg')].filter((s) => s.getBoundingClientRect().right > width + 1).length;
    return { clipped_scroll_boxes: clipped, charts_outside };
  });
  out.print.pdf_bytes = (await page.pdf({ format: 'A4', printBackground: true })).length;
  await page.emulateMedia({ media: 'screen' });

  // A phone: the page itself never scrolls sideways (wide tables scroll in their own box).
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(100);
  out.phone = await page.evaluate(() => ({ page_width: document.documentElement.scrollWidth, viewport: window.innerWidth }));

  // Every width from a small phone to a wide screen: the page never scrolls sideways, no table
  // overflows its box, and nothing visible sticks out of the page.
  out.widths = [];
  await page.evaluate(() => document.activeElement?.blur());
  for (let w = 360; w <= 1440; w += 40) {
    await page.setViewportSize({ width: w, height: 900 });
    await page.waitForTimeout(30);
    out.widths.push(await page.evaluate((w) => ({
      width: w,
      page_width: document.documentElement.scrollWidth,
      overflowing_boxes: [...document.querySelectorAll('.scroll')].filter((e) => e.scrollWidth > e.clientWidth + 1)
        .map((e) => `${e.closest('section')?.id}: ${e.scrollWidth} > ${e.clientWidth}`),
      // Leaves only: an SVG group's box includes its hidden tooltip.
      sticking_out: [...document.querySelectorAll('main *, header *')]
        .filter((e) => e.children.length === 0 && e.getBoundingClientRect().right > w + 1 && e.checkVisibility({ visibilityProperty: true }))
        .map((e) => `${e.closest('section')?.id}: <${e.tagName.toLowerCase()}>`),
    }), w));
  }

  // The screenshot is not blank: count its distinct colours, in a page of its own.
  const { readFileSync } = await import('node:fs');
  const png = readFileSync(shotPath).toString('base64');
  const scratch = await pixelPage(browser);
  out.screenshot = await scratch.evaluate(async (b64) => {
    const { w, h, d } = await window.pixels(b64);
    const colours = new Set();
    let nonWhite = 0;
    for (let i = 0; i < d.length; i += 4 * 7) {
      colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
      if (d[i] < 250 || d[i + 1] < 250 || d[i + 2] < 250) nonWhite++;
    }
    return { width: w, height: h, colours: colours.size, non_white_share: nonWhite / (d.length / (4 * 7)) };
  }, png);
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(out));
