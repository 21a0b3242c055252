// National commune layer benchmark (run by `make bench` through `node end2end/run.mjs --bench`):
// the 3,321 communes of today as one map and ranking, and the bytes their boundaries cost.
import { base, openBrowser } from '../tests/browser.mjs';

const VIEW = '/?unit=VN&level=commune&from=2026-01-01&to=2026-06-30';
const COMMUNES = 3321;
const runs = 5;

/** Bytes of `path` as sent with gzip, and raw. */
async function gzipBytes(path) {
  const { gzipSync } = await import('node:zlib');
  const res = await fetch(`${base}${path}`);
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  const raw = Buffer.from(await res.arrayBuffer());
  return { raw: raw.length, gzip: gzipSync(raw, { level: 6 }).length };
}

// The shipped boundaries are stored on a layer's first view: take that out of the timings.
await fetch(`${base}${VIEW}`);
const province = await gzipBytes('/api/v1/boundaries?level=commune&parent=48&date=2026-06-30');
const national = await gzipBytes('/api/v1/boundaries?level=commune&parent=VN&date=2026-06-30&detail=2');
const page = await gzipBytes(VIEW);

const browser = await openBrowser();
try {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const tab = await browser.context.newPage();
    const started = Date.now();
    await tab.goto(`${base}${VIEW}`, { waitUntil: 'commit' });
    // The first animation frame in which every commune's shape is in the document.
    await tab.waitForFunction((n) => document.querySelectorAll('path.unit').length >= n, COMMUNES, {
      polling: 'raf',
      timeout: 60_000,
    });
    times.push(Date.now() - started);
    await tab.close();
  }
  times.sort((a, b) => a - b);
  const kb = (n) => `${(n / 1024).toFixed(0)} KB`;
  console.log(
    `communes: the national layer of ${COMMUNES} communes — first frame with all of them p50 ${times[Math.floor(runs / 2)]} ms, ` +
      `max ${times[runs - 1]} ms over ${runs} loads (target ≤ 1000 ms); page ${kb(page.gzip)} gzip (${kb(page.raw)} raw); ` +
      `boundaries of one province (48, 94 communes) ${kb(province.gzip)} gzip (target ≤ 150 KB); ` +
      `national layer at the coarsest detail ${kb(national.gzip)} gzip (target ≤ 1536 KB)`,
  );
  if (browser.errors.length) throw new Error(browser.errors.join('\n'));
} finally {
  await browser.close();
}
