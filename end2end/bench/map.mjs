// Map benchmark (run by `make bench` through `node end2end/run.mjs --bench`): a generated layer
// of 10,000 outlined units drawn by the WASM map; times the first frame and hover read-outs.
import { base, openBrowser, waitHydrated } from '../tests/browser.mjs';

const features = Number(process.env.BENCH_MAP_FEATURES ?? 10_000);
const hovers = 200;
const percentile = (sorted, p) => sorted[Math.round((sorted.length - 1) * p)];

const browser = await openBrowser();
try {
  const page = await browser.context.newPage();
  await page.goto(`${base}/bench/map?features=${features}`);
  await waitHydrated(page);
  // First frame: from the click that hands the layer to the map to the first animation frame
  // in which all its shapes are in the document.
  await page.evaluate(() => {
    window.__drawStarted = performance.now();
    document.querySelector('#draw').click();
  });
  const firstFrame = await page.waitForFunction(
    (n) => document.querySelectorAll('path.unit').length === n && performance.now() - window.__drawStarted,
    features,
    { polling: 'raf', timeout: 60_000 },
  );
  const firstFrameMs = await firstFrame.jsonValue();
  // Hover: the work a hover costs (event, reactive update, style and layout of the tooltip,
  // forced synchronously) and the time to the next animation frame, whose floor is the frame
  // interval (16.7 ms at 60 Hz).
  const { work, frame } = await page.evaluate(async (count) => {
    const paths = [...document.querySelectorAll('path.unit')];
    const work = [];
    const frame = [];
    for (let k = 0; k < count; k++) {
      await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
      const path = paths[(k * 7919) % paths.length];
      const t0 = performance.now();
      path.dispatchEvent(new MouseEvent('mouseover', { bubbles: true }));
      await Promise.resolve();
      await new Promise((r) => setTimeout(r, 0));
      const tooltip = document.querySelector('.map-tooltip strong');
      if (!tooltip || tooltip.textContent !== path.getAttribute('aria-label').split(':')[0]) {
        throw new Error(`tooltip does not show ${path.dataset.unit}`);
      }
      tooltip.getBoundingClientRect();
      work.push(performance.now() - t0);
      await new Promise((r) => requestAnimationFrame(() => r()));
      frame.push(performance.now() - t0);
    }
    const sort = (a) => a.sort((x, y) => x - y);
    return { work: sort(work), frame: sort(frame) };
  }, hovers);
  console.log(
    `map: ${features} units — first frame ${firstFrameMs.toFixed(0)} ms (target < 1000); ` +
      `hover work p50 ${percentile(work, 0.5).toFixed(1)} ms, p95 ${percentile(work, 0.95).toFixed(1)} ms, ` +
      `max ${work[work.length - 1].toFixed(1)} ms (target < 16); to the next frame p50 ${percentile(frame, 0.5).toFixed(1)} ms, ` +
      `p95 ${percentile(frame, 0.95).toFixed(1)} ms; ${hovers} hovers`,
  );
  if (browser.errors.length) throw new Error(browser.errors.join('\n'));
} finally {
  await browser.close();
}
