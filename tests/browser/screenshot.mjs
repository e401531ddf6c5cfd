// The README's picture of the review: the top of the page at 900 × 1425 pixels, in Debian's
// chromium through playwright-core (the browser the tests use). With a third argument, compares
// the new picture with that PNG and prints {width, height, differing_pixels} as JSON.
// Usage: node tests/browser/screenshot.mjs crossaz-review-2026-10/index.html docs/review-screenshot.png
//        node tests/browser/screenshot.mjs PAGE.html NEW.png COMMITTED.png
import { pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';
import { launch, pixelPage } from './chromium.mjs';

const [, , pagePath, shotPath, comparePath] = process.argv;
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 900, height: 1425 } });
  await page.goto(pathToFileURL(pagePath).href, { waitUntil: 'load' });
  await page.waitForTimeout(300);
  await page.screenshot({ path: shotPath });
  if (comparePath) {
    const scratch = await pixelPage(browser);
    const diff = await scratch.evaluate(async ([a, b]) => {
      const [x, y] = [await window.pixels(a), await window.pixels(b)];
      if (x.w !== y.w || x.h !== y.h) return { width: y.w, height: y.h, differing_pixels: -1 };
      let n = 0;
      for (let i = 0; i < x.d.length; i += 4) {
        if (Math.abs(x.d[i] - y.d[i]) + Math.abs(x.d[i + 1] - y.d[i + 1]) + Math.abs(x.d[i + 2] - y.d[i + 2]) > 48) n++;
      }
      return { width: y.w, height: y.h, differing_pixels: n };
    }, [readFileSync(shotPath).toString('base64'), readFileSync(comparePath).toString('base64')]);
    process.stdout.write(JSON.stringify(diff));
  }
} finally {
  await browser.close();
}
