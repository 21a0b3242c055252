// Today's country: the 34 provinces and their communes on real geography (no district level after
// 2025-07-01), the boundaries' credit line, and the comparison view across the reform.
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

const H1_2026 = 'from=2026-01-01&to=2026-06-30';
const CREDIT = 'thanglequoc/vietnamese-provinces-database';

test('in 2026 the country shows 34 provinces and a province opens on its communes, with the credit line', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${base}/?unit=VN&${H1_2026}`);
  await waitHydrated(page);
  assert.equal(await page.$$eval('path.unit', (ps) => ps.length), 34, 'the 34 provinces of today');
  assert.match(await page.textContent('.credit'), new RegExp(CREDIT));
  // Drill into the new Đà Nẵng: its 94 communes, directly under the province.
  await page.focus('path.unit[data-unit="48"]');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('unit') === '48', null, { timeout: 15_000 });
  await page.waitForFunction(() => document.querySelectorAll('path.unit').length === 94, null, { timeout: 15_000 });
  assert.equal(await page.$$eval('.breadcrumb li', (lis) => lis.length), 2, 'country › province: no district');
  assert.equal(await page.$$eval('tbody tr[data-unit]', (rs) => rs.length), 94);
  assert.match(await page.textContent('.credit'), new RegExp(CREDIT));
  // A commune has no level below: Enter on it does not navigate.
  await page.focus('path.unit');
  await page.keyboard.press('Enter');
  await page.waitForTimeout(300);
  assert.equal(new URL(page.url()).searchParams.get('unit'), '48');
  await page.screenshot({ path: join(output, 'eras-communes.png'), fullPage: true });
  assert.deepEqual(browser.errors, [], 'no console errors');
  await page.close();
});

test('the comparison view colours each commune by its change against a year earlier, in the URL', async () => {
  const page = await browser.context.newPage();
  const view = `/?unit=48&from=2026-01-01&to=2026-06-30&vs_from=2025-01-01&vs_to=2025-06-30`;
  await page.goto(`${base}${view}`);
  await waitHydrated(page);
  // The base period lies before the reform: it is shown on today's units, converted.
  await page.waitForSelector('.compare-note');
  await page.waitForSelector('svg.change-bars rect');
  assert.ok((await page.$$eval('svg.change-bars rect', (rs) => rs.length)) > 10, 'a bar per commune with both figures');
  await page.waitForSelector('.conversion-note');
  // The link "compare with a year earlier" of the plain view leads to the same view.
  const plain = await browser.context.newPage();
  await plain.goto(`${base}/?unit=48&from=2026-01-01&to=2026-06-30`);
  await waitHydrated(plain);
  const href = await plain.getAttribute('a[data-compare="year-earlier"]', 'href');
  const params = new URL(href, base).searchParams;
  assert.equal(params.get('vs_from'), '2025-01-01');
  assert.equal(params.get('vs_to'), '2025-06-30');
  await plain.close();
  // The embed of the comparison carries it too.
  const embed = await browser.context.newPage();
  await embed.goto(`${base}/embed${view.slice(1)}`);
  await waitHydrated(embed);
  await embed.waitForSelector('.compare-note');
  assert.equal(await embed.$$eval('path.unit', (ps) => ps.length), 94);
  assert.match(await embed.textContent('.credit'), new RegExp(CREDIT));
  await page.screenshot({ path: join(output, 'eras-comparison.png'), fullPage: true });
  assert.deepEqual(browser.errors, [], 'no console errors');
  await embed.close();
  await page.close();
});

test("a province's view links to its month as a PDF report, in the page's language", async () => {
  const page = await browser.context.newPage();
  await page.goto(`${base}/?unit=48&from=2026-03-01&to=2026-03-31&lang=en`);
  await waitHydrated(page);
  const href = await page.getAttribute('a.report', 'href');
  const params = new URL(href, base).searchParams;
  assert.equal(new URL(href, base).pathname, '/api/v1/reports/monthly');
  assert.equal(params.get('unit'), '48');
  assert.equal(params.get('month'), '2026-03');
  assert.equal(params.get('lang'), 'en');
  const res = await page.request.get(new URL(href, base).href);
  assert.equal(res.status(), 200);
  assert.equal(res.headers()['content-type'], 'application/pdf');
  const pdf = await res.body();
  assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
  // Before the reform shown on today's units, the month's report would read other units: no link.
  await page.goto(`${base}/?unit=48&from=2024-03-01&to=2024-03-31&units=current`);
  await waitHydrated(page);
  assert.equal(await page.$$('a.report').then((l) => l.length), 0);
  assert.deepEqual(browser.errors, [], 'no console errors');
  await page.close();
});
