// Dashboard benchmark (run by `make bench` through `node end2end/run.mjs --bench`): the four
// performance targets of the dashboard issue, measured against the release server on localhost.
//   - size of the release WASM, gzipped (target ≤ 400 KB);
//   - server-rendered HTML: first byte and whole document (target first byte ≤ 50 ms);
//   - page interactive, i.e. hydrated, in a fresh browser profile (target ≤ 1.5 s);
//   - changing a filter until map, table, headline figures and charts all show the new figures (target ≤ 200 ms).
import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { base, openBrowser, waitHydrated } from '../tests/browser.mjs';

const percentile = (sorted, p) => sorted[Math.round((sorted.length - 1) * p)];
const summary = (values) => {
  const s = [...values].sort((a, b) => a - b);
  return `p50 ${percentile(s, 0.5).toFixed(1)} ms, p95 ${percentile(s, 0.95).toFixed(1)} ms, max ${s[s.length - 1].toFixed(1)} ms`;
};

// 1. WASM size, as served (the site directory the server serves from): each page loads one bundle,
// the dashboard `iem`, the desk pages `iem-desk`, the embed `iem-embed` (app::BUNDLES).
for (const bundle of ['iem', 'iem-desk', 'iem-embed']) {
  const wasm = readFileSync(join(process.env.SITE_DIR, 'pkg', `${bundle}_bg.wasm`));
  const gzipped = gzipSync(wasm, { level: 9 }).length;
  console.log(
    `wasm ${bundle}: ${(wasm.length / 1024).toFixed(0)} KiB raw, ${(gzipped / 1000).toFixed(0)} KB ` +
      `(${(gzipped / 1024).toFixed(0)} KiB) gzip -9 (target ≤ 400 KB)`,
  );
}

// 2. Server-rendered HTML: time to the first byte of the body and to the end of the document, one
// request at a time on a kept-alive connection, after a warm-up.
function timeDocument(path) {
  return new Promise((ok, fail) => {
    const started = performance.now();
    let first = null;
    let bytes = 0;
    const req = request(`${base}${path}`, { headers: { 'accept-encoding': 'identity' } }, (res) => {
      if (res.statusCode !== 200) fail(new Error(`${path}: status ${res.statusCode}`));
      res.on('data', (chunk) => {
        first ??= performance.now() - started;
        bytes += chunk.length;
      });
      res.on('end', () => ok({ first, whole: performance.now() - started, bytes }));
    });
    req.on('error', fail);
    req.end();
  });
}
// A district's own page too, from before the 2025 reform (today's provinces list communes, which
// have no level below): its code is read from the province's ranking table of the time.
const before = 'from=2021-01-01&to=2021-03-31';
const province = await (await fetch(`${base}/?unit=49&${before}`)).text();
const district = province.match(/<tr[^>]*data-unit="(\d+)"/)?.[1];
if (!district) throw new Error('no unit row in the dashboard HTML');
const pages = ['/', '/?lang=en', `/?unit=${district}&${before}`, '/procedures', '/embed'];
const samples = Number(process.env.BENCH_SSR_SAMPLES ?? 40);
const allFirst = [];
for (const path of pages) {
  for (let k = 0; k < 3; k++) await timeDocument(path);
  const first = [];
  const whole = [];
  let bytes = 0;
  for (let k = 0; k < samples; k++) {
    const t = await timeDocument(path);
    first.push(t.first);
    whole.push(t.whole);
    bytes = t.bytes;
  }
  allFirst.push(...first);
  console.log(`ssr ${path}: first byte ${summary(first)}; whole document ${summary(whole)}; ${(bytes / 1024).toFixed(0)} KiB`);
}
console.log(`ssr, all pages: first byte ${summary(allFirst)} (target ≤ 50 ms)`);

// 3 and 4 in the browser.
const browser = await openBrowser();
try {
  // 3. Hydrated: from navigation start to the entry point marking <body>, each load in a new page
  // (the HTTP cache keeps the WASM after the first load, as for a returning visitor; the first
  // load is reported on its own).
  const hydrated = [];
  for (let k = 0; k < 6; k++) {
    const page = await browser.context.newPage();
    await page.goto(`${base}/`, { waitUntil: 'commit' });
    const at = await page.waitForFunction(() => document.body?.dataset.hydrated === 'true' && performance.now(), null, {
      polling: 'raf',
      timeout: 30_000,
    });
    hydrated.push(await at.jsonValue());
    await page.close();
  }
  console.log(
    `hydrated: first load ${hydrated[0].toFixed(0)} ms, later loads ${summary(hydrated.slice(1))} (target ≤ 1500 ms)`,
  );

  // 4. Filter change → map, ranking table, headline figures and charts all redrawn. Each sample
  // snapshots the four parts, changes a filter, and waits (checking every animation frame) until
  // each part differs from its snapshot.
  const page = await browser.context.newPage();
  await page.goto(`${base}/`);
  await waitHydrated(page);
  const fields = await page.$$eval('select[name="field"] option', (options) => options.map((o) => o.value));
  const changes = [];
  for (const value of [...fields.slice(1), '', ...fields.slice(1, 4), '']) {
    changes.push({ select: 'select[name="field"]', value });
  }
  const channels = await page.$$eval('select[name="channel"] option', (options) => options.map((o) => o.value));
  for (const value of [...channels.slice(1), '']) changes.push({ select: 'select[name="channel"]', value });
  const redraw = [];
  const partsSlow = { map: [], table: [], figures: [], charts: [] };
  for (const change of changes) {
    const current = await page.$eval(change.select, (s) => s.value);
    if (current === change.value) continue;
    const times = await page.evaluate(async ({ select, value }) => {
      const parts = {
        map: () => [...document.querySelectorAll('svg.map-shapes path')].map((p) => p.getAttribute('fill')).join(),
        table: () => document.querySelector('.ranking tbody')?.textContent ?? '',
        figures: () => [...document.querySelectorAll('.card .figure')].map((f) => f.textContent).join('|'),
        charts: () => [...document.querySelectorAll('.chart-svg')].map((c) => c.innerHTML).join(),
      };
      const before = Object.fromEntries(Object.entries(parts).map(([k, f]) => [k, f()]));
      const element = document.querySelector(select);
      const started = performance.now();
      element.value = value;
      element.dispatchEvent(new Event('change', { bubbles: true }));
      const done = {};
      while (Object.keys(done).length < 4) {
        await new Promise((r) => requestAnimationFrame(r));
        for (const [k, f] of Object.entries(parts)) {
          if (!(k in done) && f() !== before[k]) done[k] = performance.now() - started;
        }
        if (performance.now() - started > 10_000) throw new Error(`not redrawn within 10 s: ${JSON.stringify(done)}`);
      }
      return done;
    }, change);
    redraw.push(Math.max(...Object.values(times)));
    for (const [k, v] of Object.entries(times)) partsSlow[k].push(v);
  }
  console.log(`filter change → all redrawn (${redraw.length} changes): ${summary(redraw)} (target ≤ 200 ms)`);
  console.log(
    '  per part: ' +
      Object.entries(partsSlow)
        .map(([k, v]) => `${k} p50 ${percentile([...v].sort((a, b) => a - b), 0.5).toFixed(0)} ms`)
        .join(', '),
  );
  if (browser.errors.length) throw new Error(browser.errors.join('\n'));
} finally {
  await browser.close();
}
