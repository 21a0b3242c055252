// The choropleth map: one shape per district, colours matching the legend, hover read-outs.
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

test('the map draws every district and the legend counts them', async () => {
  const res = await fetch(`${base}/`);
  const html = await res.text();
  const shapes = html.match(/<path[^>]*class="unit[^"]*"/g) ?? [];
  const rows = html.match(/<tr[^>]*data-unit="\d+"/g) ?? [];
  assert.equal(shapes.length, rows.length, 'one shape per ranked district, rendered on the server');
  const page = await browser.context.newPage();
  await page.goto(`${base}/`);
  await waitHydrated(page);
  const legend = await page.$$eval('.legend li', (items) =>
    items.map((li) => ({ cls: li.dataset.class, count: Number(li.querySelector('.class-count').textContent) })),
  );
  const byClass = await page.$$eval('path.unit', (paths) => {
    const counts = {};
    for (const p of paths) counts[p.dataset.class] = (counts[p.dataset.class] ?? 0) + 1;
    return counts;
  });
  for (const { cls, count } of legend) {
    assert.equal(byClass[cls] ?? 0, count, `legend count of class ${cls}`);
  }
  // Every unit of one class shares the legend swatch's colour.
  const swatch = await page.$eval('.legend li[data-class="0"] .swatch', (s) => getComputedStyle(s).backgroundColor);
  const fills = await page.$$eval('path.unit[data-class="0"]', (ps) => ps.map((p) => getComputedStyle(p).fill));
  for (const fill of fills) assert.equal(fill, swatch);
  await page.close();
});

test('hovering a district shows its figure, the same as in the ranking', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${base}/`);
  await waitHydrated(page);
  const code = await page.$eval('tbody tr[data-unit]', (r) => r.dataset.unit);
  const rate = await page.$eval(`tbody tr[data-unit="${code}"] td:nth-of-type(4)`, (c) => c.textContent.trim());
  await page.hover(`path.unit[data-unit="${code}"]`);
  await page.waitForSelector('.map-tooltip');
  const tooltip = await page.textContent('.map-tooltip');
  assert.ok(tooltip.includes(rate), `tooltip "${tooltip}" shows ${rate}`);
  // Keyboard focus shows it too.
  await page.mouse.move(0, 0);
  await page.focus(`path.unit[data-unit="${code}"]`);
  await page.waitForSelector('.map-tooltip');
  // Hovering a legend class dims the other classes.
  await page.hover('.legend li[data-class="none"]');
  const dimmed = await page.$$eval('path.unit.dimmed', (ps) => ps.length);
  const others = await page.$$eval('path.unit:not([data-class="none"])', (ps) => ps.length);
  assert.equal(dimmed, others);
  await page.screenshot({ path: join(output, 'map.png'), fullPage: true });
  assert.deepEqual(browser.errors, [], 'no console errors');
  await page.close();
});
