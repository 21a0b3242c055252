// The dashboard page: server-rendered content, hydration, an interaction that needs WASM.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { base, output, openBrowser, waitHydrated } from './browser.mjs';

let browser;
before(async () => {
  browser = await openBrowser();
});
after(async () => {
  await browser?.close();
});

test('server-rendered HTML has the figures before any script runs', async () => {
  const res = await fetch(`${base}/`);
  assert.equal(res.status, 200);
  const html = await res.text();
  // `<!>`: the marker Leptos leaves after a type-erased text node.
  assert.match(html, /<h1>Bản đồ thực thi thể chế(<!>)?<\/h1>/);
  const rows = html.match(/<tr[^>]*data-unit="\d+"/g) ?? [];
  assert.ok(rows.length >= 5, `expected district rows in the ranking, found ${rows.length}`);
  assert.match(html, /class="figure">\d{1,3}(\.\d{3})*</, 'a received count in Vietnamese format');
  assert.match(html, /class="figure">\d{1,3},\d{2}%</, 'an on-time rate like 93,41%');
  assert.match(html, /<tbody>/, 'the table has an explicit tbody');
});

test('after hydration, sorting the ranking works and the console stays clean', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${base}/`);
  await waitHydrated(page);
  const order = () => page.$$eval('tbody tr[data-unit]', (rows) => rows.map((r) => r.dataset.unit));
  const received = () =>
    page.$$eval('tbody tr[data-unit] td:nth-of-type(2)', (cells) =>
      cells.map((c) => Number(c.textContent.replace(/\./g, ''))),
    );
  const before = await order();
  await page.click('button.sort[data-column="received"]');
  await page.waitForSelector('th[aria-sort="descending"] button[data-column="received"]');
  const after = await order();
  const counts = await received();
  assert.notDeepEqual(after, before, 'the order changed');
  assert.deepEqual(counts, [...counts].sort((a, b) => b - a), 'rows are by received, largest first');
  await page.click('button.sort[data-column="received"]');
  await page.waitForSelector('th[aria-sort="ascending"] button[data-column="received"]');
  const ascending = await received();
  assert.deepEqual(ascending, [...ascending].sort((a, b) => a - b));
  await page.screenshot({ path: join(output, 'dashboard.png'), fullPage: true });
  assert.deepEqual(browser.errors, [], 'no console errors');
  await page.close();
});

test('the language switch renders English with English number formats', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${base}/`);
  await waitHydrated(page);
  await page.click('a.lang-switch');
  await page.waitForSelector('h1:text("Institutional Enforcement Map")');
  const figure = await page.textContent('article[data-figure="OnTimeRate"] .figure');
  assert.match(figure, /^\d{1,3}\.\d{2}%$/);
  assert.deepEqual(browser.errors, [], 'no console errors');
  await page.close();
});

test('the page keeps working when views change faster than their figures and charts arrive', async () => {
  const page = await browser.context.newPage();
  // Counts the live streams left open: each view replaced must close its own.
  await page.addInitScript(() => {
    const Native = window.EventSource;
    window.openStreams = 0;
    window.streamsOpened = 0;
    window.EventSource = class extends Native {
      constructor(...args) {
        super(...args);
        window.openStreams += 1;
        window.streamsOpened += 1;
        this.counted = true;
        // A stream the browser gave up on is closed too (the page then closes it again).
        this.addEventListener('error', () => this.readyState === Native.CLOSED && this.uncount());
      }
      uncount() {
        if (this.counted) window.openStreams -= 1;
        this.counted = false;
      }
      close() {
        this.uncount();
        super.close();
      }
    };
  });
  await page.goto(`${base}/?lang=en`);
  await waitHydrated(page);
  // Answers come in a shuffled order, some after the view they belong to was left: each part of
  // the page (the figures, the charts inside them) may be replaced while another is waiting.
  let delayed = 0;
  const delays = [0, 400, 150, 800, 50, 600, 250];
  await page.route(/\/api\/fn\/(dashboard|selection)/, async (route) => {
    const ms = delays[delayed++ % delays.length];
    await new Promise((resolve) => setTimeout(resolve, ms));
    await route.continue();
  });
  for (let round = 0; round < 6; round++) {
    await page.selectOption('select[name="field"]', 'Đất đai');
    await page.waitForTimeout(100 + 70 * round);
    await page.click('.presets a:nth-of-type(3)');
    await page.waitForTimeout(50 * round);
    await page.goBack();
    await page.waitForTimeout(30 * round);
    await page.goBack();
  }
  await page.waitForFunction(() => !new URL(location.href).searchParams.has('field'));
  await page.waitForTimeout(2000);
  assert.ok(delayed >= 6, `answers were delayed (${delayed})`);
  await page.unroute(/\/api\/fn\/(dashboard|selection)/);
  // The page still answers: a sector filter narrows the figures.
  const all = await page.textContent('.card .figure');
  await page.selectOption('select[name="field"]', 'Đất đai');
  await page.waitForFunction((before) => document.querySelector('.card .figure').textContent !== before, all);
  await page.waitForFunction(() => window.openStreams === 1);
  assert.ok(await page.evaluate(() => window.streamsOpened) >= 2, 'a view that replaced another opened its own stream');
  assert.deepEqual(browser.errors, [], 'no console errors');
  await page.close();
});

test('the charts on show keep answering the pointer while their next figures load', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${base}/?lang=en`);
  await waitHydrated(page);
  await page.waitForSelector('[data-chart="trend"] .chart-canvas[aria-busy="false"]');
  // The charts' answers come late and out of order while the reader focuses one unit after
  // another and points at the charts on show: the pointer, the table toggle still work on them.
  let delayed = 0;
  const delays = [900, 100, 500, 0, 1200, 300];
  await page.route('**/api/fn/selection*', async (route) => {
    const ms = delays[delayed++ % delays.length];
    await new Promise((resolve) => setTimeout(resolve, ms));
    await route.continue();
  });
  const units = await page.$$eval('tbody tr[data-unit]', (rows) => rows.slice(0, 6).map((r) => r.dataset.unit));
  for (const [i, unit] of units.entries()) {
    await page.click(`tbody tr[data-unit="${unit}"] button.focus-unit`);
    await page.hover('[data-chart="trend"] .chart-canvas', { position: { x: 30 + 20 * i, y: 40 } });
    await page.waitForTimeout(80 * i);
    await page.hover('[data-chart="days"] .chart-canvas', { position: { x: 60, y: 30 + 10 * i } });
    if (i % 2 === 1) await page.click('[data-chart="days"] button.show-table');
  }
  const last = units[units.length - 1];
  await page.waitForSelector(`.focus-banner[data-focus="${last}"]`);
  await page.waitForTimeout(1500);
  await page.unroute('**/api/fn/selection*');
  assert.ok(delayed >= 2, `the charts were asked again (${delayed})`);
  await page.hover('[data-chart="trend"] .chart-canvas', { position: { x: 80, y: 50 } });
  assert.deepEqual(browser.errors, [], 'no console errors');
  await page.close();
});

test('filters and period presets narrow the figures and live in the URL', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${base}/?lang=en`);
  await waitHydrated(page);
  const received = async () => Number((await page.textContent('.card .figure')).replace(/[^0-9]/g, ''));
  const all = await received();
  // Views change in place: a mark left on the window survives every change below.
  await page.evaluate(() => { window.sameDocument = true; });
  await page.selectOption('select[name="field"]', 'Đất đai');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('field') === 'Đất đai');
  await page.waitForFunction((before) => Number(document.querySelector('.card .figure').textContent.replace(/[^0-9]/g, '')) < before, all);
  const land = await received();
  assert.ok(land > 0 && land < all, `land ${land} of ${all}`);
  // The year preset keeps the sector filter and covers the whole calendar year.
  await page.click('.presets a:nth-of-type(3)');
  await page.waitForFunction(() => /-01-01$/.test(new URL(location.href).searchParams.get('from') ?? ''));
  const url = new URL(page.url());
  assert.equal(url.searchParams.get('field'), 'Đất đai');
  assert.match(url.searchParams.get('to'), /-12-31$/);
  // Back returns to the quarter with the sector filter.
  await page.goBack();
  await page.waitForFunction(() => !new URL(location.href).searchParams.has('from'));
  assert.equal(await page.$eval('select[name="field"]', (s) => s.value), 'Đất đai');
  assert.equal(await page.evaluate(() => window.sameDocument), true, 'the page was not reloaded');
  assert.deepEqual(browser.errors, [], 'no console errors');
  await page.close();
});
