// Phone benchmark (run by `make bench` through `node end2end/run.mjs --bench`): the embed, the
// dashboard and a province of today with its communes, loaded in Chromium as a mid-range phone on
// a slow network sees them: CPU 4× slower, 1.6 Mbit/s down, 750 kbit/s up, 150 ms round trip,
// 360×740, an empty cache each time. Five loads each; first contentful paint and hydrated time
// (p50, max) and the bytes transferred. Targets: embed hydrated ≤ 1.8 s p50, dashboard ≤ 2.5 s p50.
import { base, openBrowser } from '../tests/browser.mjs';

const RUNS = 5;
const PAGES = [
  ['embed', '/embed', 1800],
  ['dashboard', '/', 2500],
  ['province of today with its communes', '/?unit=48&from=2026-01-01&to=2026-06-30', null],
];
const median = (sorted) => sorted[Math.floor(sorted.length / 2)];

const browser = await openBrowser({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
try {
  for (const [name, path, target] of PAGES) {
    const fcp = [];
    const hydrated = [];
    const bytes = [];
    for (let i = 0; i < RUNS; i++) {
      const page = await browser.context.newPage();
      const cdp = await browser.context.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: 150,
        downloadThroughput: (1.6 * 1024 * 1024) / 8,
        uploadThroughput: (750 * 1024) / 8,
      });
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
      let transferred = 0;
      cdp.on('Network.loadingFinished', (e) => (transferred += e.encodedDataLength));
      // The moment the entry point marks <body> hydrated, taken in the page itself.
      await page.addInitScript(() => {
        new MutationObserver((_, observer) => {
          if (document.body?.dataset.hydrated === 'true') {
            window.__hydratedAt = performance.now();
            observer.disconnect();
          }
        }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-hydrated'] });
      });
      await page.goto(`${base}${path}`, { waitUntil: 'commit' });
      await page.waitForSelector('body[data-hydrated="true"]', { timeout: 60_000 });
      const times = await page.evaluate(() => ({
        fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
        hydrated: window.__hydratedAt ?? performance.now(),
      }));
      fcp.push(times.fcp);
      hydrated.push(times.hydrated);
      bytes.push(transferred);
      await page.close();
    }
    [fcp, hydrated, bytes].forEach((a) => a.sort((x, y) => x - y));
    const verdict = target ? ` (target ≤ ${target} ms p50: ${median(hydrated) <= target ? 'met' : 'NOT met'})` : '';
    console.log(
      `phone: ${name} (${path}) — first contentful paint p50 ${median(fcp).toFixed(0)} ms, max ${fcp[RUNS - 1].toFixed(0)} ms; ` +
        `hydrated p50 ${median(hydrated).toFixed(0)} ms, max ${hydrated[RUNS - 1].toFixed(0)} ms${verdict}; ` +
        `${(median(bytes) / 1024).toFixed(0)} KB transferred`,
    );
  }
  if (browser.errors.length) throw new Error(browser.errors.join('\n'));
} finally {
  await browser.close();
}
