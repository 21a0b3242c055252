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
  await page.waitForFunction(() => document.querySelector('g.units').dataset.highlight === 'none');
  // Dimmed units fade out (a CSS transition): wait for it to end.
  const dimmedCount = () => {
    const ps = [...document.querySelectorAll('path.unit')];
    const dimmed = ps.filter((p) => getComputedStyle(p).opacity === '0.25');
    const others = ps.filter((p) => p.dataset.class !== 'none');
    return dimmed.length === others.length && dimmed.every((p) => p.dataset.class !== 'none');
  };
  await page.waitForFunction(dimmedCount, null, { timeout: 5_000 });
  await page.screenshot({ path: join(output, 'map.png'), fullPage: true });
  assert.deepEqual(browser.errors, [], 'no console errors');
  await page.close();
});

/** The code of the unit the breadcrumb marks as the one shown. */
const shownUnit = (page) => page.$eval('.breadcrumb [aria-current="page"]', (li) => li.dataset.unit ?? 'VN');

/** Waits until the dashboard shows `code`'s children (after a client-side navigation). */
async function waitShowing(page, code) {
  await page.waitForFunction(
    (c) => {
      const li = document.querySelector('.breadcrumb [aria-current="page"]');
      return li && (li.dataset.unit ?? 'VN') === c && new URL(location.href).searchParams.get('unit') === c;
    },
    code,
    { timeout: 15_000 },
  );
}

/** Units on the map and rows in the ranking agree. */
async function assertMapMatchesRanking(page) {
  const shapes = await page.$$eval('path.unit', (ps) => ps.map((p) => p.dataset.unit).sort());
  const rows = await page.$$eval('tbody tr[data-unit]', (rs) => rs.map((r) => r.dataset.unit).sort());
  assert.ok(shapes.length > 0, 'the map draws units');
  assert.deepEqual(shapes, rows);
}

/** A view before the 2025 reform, when provinces had districts (today's provinces have communes only). */
const BEFORE_REFORM = '/?unit=49&from=2024-01-01&to=2024-12-31';

test('clicking a district drills down to its communes; Escape, back and the breadcrumb go up', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${base}${BEFORE_REFORM}`);
  await waitHydrated(page);
  const province = await shownUnit(page);
  // The first click selects the unit (the charts focus on it, the URL says so); a second
  // click on the selected unit opens its level below.
  await page.click('path.unit');
  await page.waitForFunction(() => new URL(location.href).searchParams.has('focus'), null, { timeout: 15_000 });
  await page.click('path.unit');
  // The click lands on whichever unit is under the shape's centre: read which one opened.
  await page.waitForFunction(() => document.querySelectorAll('.breadcrumb li').length === 3, null, { timeout: 15_000 });
  const district = await shownUnit(page);
  assert.notEqual(district, province);
  await waitShowing(page, district);
  await assertMapMatchesRanking(page);
  const trail = await page.$$eval('.breadcrumb li', (lis) => lis.length);
  assert.equal(trail, 3, 'country › province › district');
  // A link to this view reopens it.
  const link = page.url();
  const again = await browser.context.newPage();
  await again.goto(link);
  await waitHydrated(again);
  assert.equal(await shownUnit(again), district);
  await again.close();
  // Escape goes up to the province.
  await page.focus('path.unit');
  await page.keyboard.press('Escape');
  await waitShowing(page, province);
  // The browser's back button returns to the district.
  await page.goBack();
  await waitShowing(page, district);
  // The breadcrumb's first step is the national view: one shape per province.
  await page.click('.breadcrumb li:first-child a');
  await waitShowing(page, 'VN');
  await assertMapMatchesRanking(page);
  await page.screenshot({ path: join(output, 'map-national.png'), fullPage: true });
  assert.deepEqual(browser.errors, [], 'no console errors');
  await page.close();
});

test('keyboard: arrow keys move between units, Enter drills down, the zoom buttons and wheel zoom', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${base}${BEFORE_REFORM}`);
  await waitHydrated(page);
  await page.focus('path.unit');
  const start = await page.evaluate(() => document.activeElement.dataset.unit);
  let moved = start;
  for (const key of ['ArrowRight', 'ArrowDown', 'ArrowLeft', 'ArrowUp']) {
    await page.keyboard.press(key);
    moved = await page.evaluate(() => document.activeElement.dataset.unit);
    if (moved !== start) break;
  }
  assert.notEqual(moved, start, 'an arrow key moved the focus to another unit');
  // The focused unit's tooltip names it, as screen readers' label does.
  const label = await page.evaluate(() => document.activeElement.getAttribute('aria-label'));
  const tooltip = await page.textContent('.map-tooltip strong');
  assert.ok(label.startsWith(tooltip), `"${label}" names ${tooltip}`);
  await page.keyboard.press('Enter');
  await waitShowing(page, moved);
  // Zoom: buttons and wheel change the map's transform; reset restores it.
  const transform = () => page.$eval('g.zoom', (g) => g.getAttribute('transform'));
  assert.match(await transform(), /scale\(1\.0000\)/);
  await page.click('.map-zoom .zoom-in');
  assert.match(await transform(), /scale\(1\.5000\)/);
  await page.$eval('.map-canvas svg', (s) => s.scrollIntoView({ block: 'center' }));
  const box = await page.$eval('.map-canvas svg', (s) => {
    const r = s.getBoundingClientRect();
    return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
  });
  await page.mouse.move(box.x, box.y);
  await page.mouse.wheel(0, -300);
  await page.waitForFunction(() => !/scale\(1\.5000\)/.test(document.querySelector('g.zoom').getAttribute('transform')));
  await page.click('.map-zoom .zoom-reset');
  assert.match(await transform(), /scale\(1\.0000\)/);
  assert.deepEqual(browser.errors, [], 'no console errors');
  await page.close();
});

test('choosing the indicator and the classes recolours the map, and the URL keeps them', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${base}/?lang=en`);
  await waitHydrated(page);
  await page.selectOption('select[name="indicator"]', 'online_rate');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('indicator') === 'online_rate');
  await page.waitForFunction(() => document.querySelector('.map figcaption h3').textContent.includes('Online'));
  // The tooltip shows the online rate, as the ranking's online-rate column does.
  const code = await page.$eval('tbody tr[data-unit]', (r) => r.dataset.unit);
  const online = await page.$eval(`tbody tr[data-unit="${code}"] td:last-of-type`, (c) => c.textContent.trim());
  await page.hover(`path.unit[data-unit="${code}"]`);
  await page.waitForSelector('.map-tooltip');
  assert.ok((await page.textContent('.map-tooltip .figure')).includes(online));
  // Quantiles: five classes holding nearly the same number of units, counted as drawn.
  await page.selectOption('select[name="classes"]', 'quantiles');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('classes') === 'quantiles');
  await page.waitForFunction(() => document.querySelectorAll('.legend li:not([data-class="none"])').length === 5);
  const legend = await page.$$eval('.legend li:not([data-class="none"])', (items) =>
    items.map((li) => ({ cls: li.dataset.class, count: Number(li.querySelector('.class-count').textContent) })),
  );
  for (const { cls, count } of legend) {
    const drawn = await page.$$eval(`path.unit[data-class="${cls}"]`, (ps) => ps.length);
    assert.equal(drawn, count, `class ${cls}`);
  }
  const counts = legend.map((l) => l.count);
  assert.ok(Math.max(...counts) - Math.min(...counts) <= 2, `quantile classes ${counts}`);
  // Reloading the URL gives the same view.
  await page.reload();
  await waitHydrated(page);
  assert.equal(await page.$eval('select[name="indicator"]', (s) => s.value), 'online_rate');
  assert.equal(await page.$eval('select[name="classes"]', (s) => s.value), 'quantiles');
  assert.deepEqual(browser.errors, [], 'no console errors');
  await page.close();
});
