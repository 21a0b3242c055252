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
  assert.match(html, /<h1>Bản đồ thực thi thể chế<\/h1>/);
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
