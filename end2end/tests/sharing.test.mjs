// Sharing what one sees: cross-filtering, the CSV export against the API, the embed in an iframe,
// phones, contrast in both themes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { base, output, openBrowser, waitHydrated } from './browser.mjs';

const require = createRequire(import.meta.url);
let browser;
before(async () => {
  browser = await openBrowser({ acceptDownloads: true });
});
after(async () => {
  await browser?.close();
});

const VIEW = 'unit=49&from=2021-01-01&to=2021-03-31';

test('choosing a unit in the table focuses the charts; a sector in a chart filters the map', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${base}/?lang=en&${VIEW}`);
  await waitHydrated(page);
  await page.click('tbody tr[data-unit="515"] button.focus-unit');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('focus') === '515');
  await page.waitForSelector('.focus-banner[data-focus="515"]');
  assert.match(await page.textContent('.focus-banner'), /Bắc Trà My/);
  await page.waitForSelector('tbody tr[data-unit="515"].focused');

  // Find the land sector's bar by its hover read-out, then click it.
  const canvas = await page.waitForSelector('figure[data-chart="sectors"] .chart-canvas[aria-busy="false"]');
  await canvas.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  const before = await page.$$eval('path.unit', (ps) => ps.map((p) => p.getAttribute('aria-label')).join('|'));
  let clicked = false;
  for (let fy = 0.05; fy < 0.95 && !clicked; fy += 0.02) {
    for (const fx of [0.3, 0.5, 0.7]) {
      await page.mouse.move(box.x + box.width * fx, box.y + box.height * fy);
      const tip = await page.$('figure[data-chart="sectors"] .chart-tooltip');
      if (tip && (await tip.textContent()).includes('Đất đai')) {
        await page.mouse.click(box.x + box.width * fx, box.y + box.height * fy);
        clicked = true;
        break;
      }
    }
  }
  assert.ok(clicked, 'found the land sector in the chart');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('field') === 'Đất đai');
  await page.waitForFunction(
    (b) => [...document.querySelectorAll('path.unit')].map((p) => p.getAttribute('aria-label')).join('|') !== b,
    before,
  );
  assert.equal(await page.$eval('select[name="field"]', (s) => s.value), 'Đất đai');
  await page.close();
});

test('the exported CSV holds the same figures as GET /api/v1/stats', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${base}/?lang=en&${VIEW}`);
  await waitHydrated(page);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('button.export-csv')]);
  const path = join(output, 'ranking.csv');
  await download.saveAs(path);
  const bytes = readFileSync(path);
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 with BOM');
  const lines = bytes.subarray(3).toString('utf8').trim().split('\r\n');
  const header = lines[0].split(',');
  const col = (name) => header.findIndex((h) => h.toLowerCase().includes(name));
  const [code, received, onTime] = [header.indexOf('code'), col('received'), col('on-time')];
  assert.ok(code >= 0 && received > 0 && onTime > 0, `columns in ${lines[0]}`);
  const stats = await (await fetch(`${base}/api/v1/stats?from=2021-01-01&to=2021-03-31&level=district&parent=49`)).json();
  const rows = lines.slice(1).map((l) => l.split(','));
  assert.equal(rows.length, stats.units.length, 'one row per unit');
  for (const unit of stats.units) {
    const row = rows.find((r) => r[code] === unit.code);
    assert.ok(row, `row for ${unit.code}`);
    assert.equal(Number(row[received]), unit.received, `${unit.code} received`);
    if (unit.on_time_rate !== null) {
      assert.ok(Math.abs(Number(row[onTime]) - unit.on_time_rate * 100) < 0.006, `${unit.code} on-time ${row[onTime]}`);
    }
  }
  // The published figure: Bắc Trà My received 14,428 in 2021-Q1.
  assert.equal(Number(rows.find((r) => r[code] === '515')[received]), 14428);
  await page.close();
});

test('the trend’s table shows the API’s on-time rates, as the page hydrates and after a switch to weeks', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${base}/?lang=en&${VIEW}`);
  await waitHydrated(page);
  const rows = () =>
    page.$$eval('figure[data-chart="trend"] table.chart-table tbody tr', (trs) =>
      trs.map((tr) => [...tr.cells].map((c) => c.textContent.trim())),
    );
  // The trend of a quarter reaches back a year in months; in weeks the quarter holds enough.
  const check = async (bucket, from) => {
    const api = await (await fetch(`${base}/api/v1/trend?unit=49&from=${from}&to=2021-03-31&bucket=${bucket}`)).json();
    // The new figures are in when the table has their rows, or when the chart came back drawn
    // (a new chart opens as a picture): then its table is asked for again.
    const button = 'figure[data-chart="trend"] button.show-table';
    await page.waitForFunction(
      ([n, button]) =>
        document.querySelectorAll('figure[data-chart="trend"] table.chart-table tbody tr').length === n ||
        document.querySelector(button)?.getAttribute('aria-pressed') === 'false',
      [api.points.length, button],
    );
    if ((await page.getAttribute(button, 'aria-pressed')) === 'false') await page.click(button);
    await page.waitForFunction(
      (n) => document.querySelectorAll('figure[data-chart="trend"] table.chart-table tbody tr').length === n,
      api.points.length,
    );
    const shown = await rows();
    api.points.forEach((point, i) => {
      assert.equal(shown[i][1].replaceAll(',', ''), String(point.resolved), `${bucket} ${point.from} resolved`);
      if (point.on_time_rate === null) {
        assert.equal(shown[i][2], '–', `${bucket} ${point.from}`);
      } else {
        const percent = Number(shown[i][2].replace('%', ''));
        assert.ok(Math.abs(percent - point.on_time_rate * 100) < 0.006, `${bucket} ${point.from}: ${shown[i][2]}`);
      }
    });
  };
  // The months come with the page; the weeks from the server function after the switch.
  await check('month', '2020-04-01');
  await page.click('nav.buckets a >> nth=1');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('bucket') === 'week');
  await check('week', '2021-01-01');
  await page.close();
});

test('the embed page frames in another page; the dashboard refuses to', async () => {
  const embed = await fetch(`${base}/embed?${VIEW}`);
  assert.equal(embed.status, 200);
  // The embed hydrates with a bundle of its own (map, legend, live updates), not the dashboard's.
  const html = await embed.clone().text();
  assert.match(html, /\/pkg\/iem-embed\.[0-9a-f]+\.js/);
  assert.doesNotMatch(html, /\/pkg\/iem\.[0-9a-f]+\.js/);
  assert.match(embed.headers.get('content-security-policy') ?? '', /frame-ancestors \*/);
  assert.equal(embed.headers.get('x-frame-options'), null);
  const main = await fetch(`${base}/`);
  assert.equal(main.headers.get('x-frame-options'), 'DENY');

  const page = await browser.context.newPage();
  await page.goto(`${base}/?${VIEW}`);
  await waitHydrated(page);
  await page.click('details.embed summary');
  const snippet = await page.$eval('details.embed textarea', (t) => t.value);
  assert.match(snippet, /^<iframe src="http:\/\/127\.0\.0\.1:\d+\/embed\?/);
  // A newsroom's page on another origin (another port), holding the copied snippet.
  const newsroom = createServer((_, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>Article</title><h1>News</h1>${snippet}`);
  });
  await new Promise((ok) => newsroom.listen(0, '127.0.0.1', ok));
  await page.goto(`http://127.0.0.1:${newsroom.address().port}/article`);
  const frame = await (await page.waitForSelector('iframe')).contentFrame();
  await frame.waitForSelector('body[data-hydrated="true"]', { timeout: 30_000 });
  const loaded = await frame.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name));
  assert.ok(loaded.some((u) => /\/pkg\/iem-embed\.[0-9a-f]+_bg\.wasm/.test(u)), `the embed's own WASM: ${loaded}`);
  assert.ok(!loaded.some((u) => /\/pkg\/iem\.[0-9a-f]+_bg\.wasm/.test(u)), 'not the dashboard\'s');
  await frame.waitForSelector('path.unit');
  assert.ok((await frame.$$('path.unit')).length >= 18, 'the districts are drawn');
  assert.match(await frame.textContent('.embed-source'), /Số liệu cập nhật đến/);
  await frame.waitForSelector('.live-status[data-status="live"]');
  // On a newsroom's page the embed asks nobody who is signed in: no request carries the reader's cookie.
  const asked = await frame.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name));
  assert.ok(!asked.some((u) => u.includes('/api/fn/viewer')), `no viewer request: ${asked}`);
  await page.screenshot({ path: join(output, 'embed.png') });
  await page.close();
  newsroom.close();
});

test('an embed with decimal class limits in its address hydrates, keeping the legend and classes the server drew', async () => {
  // The browser reads `limits=` with the server's decimal reader (`format::parse_decimal`: no
  // float parser in the WASM; its unit test holds it to `str::parse`, bit for bit). Hydration
  // keeps the server's text, so what this checks is that the page hydrates at all with decimal
  // limits (a browser reading another number of classes stops hydrating) and shows them.
  const url = `${base}/embed?${VIEW}&limits=90,92.5,97`;
  const served = await (await fetch(url)).text();
  const page = await browser.context.newPage();
  const errors = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(url);
  await waitHydrated(page);
  const drawn = (doc) => ({
    labels: [...doc.querySelectorAll('.legend .class-label')].map((l) => l.textContent),
    units: [...doc.querySelectorAll('path.unit')].map((p) => `${p.dataset.unit}:${p.dataset.class}`),
  });
  const [server, browserDrew] = await page.evaluate(
    ([html, draw]) => {
      const drawn = new Function(`return ${draw}`)();
      return [drawn(new DOMParser().parseFromString(html, 'text/html')), drawn(document)];
    },
    [served, drawn.toString()],
  );
  assert.deepEqual(server.labels.slice(0, 4), ['< 90%', '90–92,5%', '92,5–97%', '≥ 97%']);
  assert.deepEqual(browserDrew, server);
  assert.ok(server.units.length >= 18, `the districts are drawn: ${server.units.length}`);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a 360 px phone shows the dashboard without sideways scrolling', async () => {
  const phone = await browser.context.browser()?.newContext?.({ viewport: { width: 360, height: 740 } });
  const page = phone ? await phone.newPage() : await browser.context.newPage();
  if (!phone) await page.setViewportSize({ width: 360, height: 740 });
  await page.goto(`${base}/?${VIEW}`);
  await waitHydrated(page);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow} px wider than the screen`);
  await page.screenshot({ path: join(output, 'phone.png'), fullPage: true });
  await page.close();
  await phone?.close();
});

for (const theme of ['light', 'dark']) {
  test(`text contrast meets WCAG AA in the ${theme} theme (axe-core)`, async () => {
    const page = await browser.context.newPage();
    await page.emulateMedia({ colorScheme: theme });
    await page.goto(`${base}/?${VIEW}`);
    await waitHydrated(page);
    // Injected through the DevTools protocol: the page's CSP (rightly) refuses inline scripts.
    await page.evaluate(readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
    const result = await page.evaluate(async () =>
      // eslint-disable-next-line no-undef
      axe.run(document, { runOnly: { type: 'rule', values: ['color-contrast'] } }),
    );
    const problems = result.violations.flatMap((v) =>
      v.nodes.map((n) => `${n.target.join(' ')}: ${n.any.map((a) => a.message).join('; ')}`),
    );
    assert.deepEqual(problems, [], `contrast problems in ${theme}`);
    await page.close();
  });
}
