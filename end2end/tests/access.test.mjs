// Signed-in drill-down and the security policy: the pages hydrate under the nonce CSP with no
// violation; a chair signs in, sees their district's late dossiers, sorts, opens a timeline,
// exports CSV, is refused another district, and signs out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { base, output, openBrowser, waitHydrated } from './browser.mjs';

const accounts = readFileSync(join(process.env.E2E_DATA_DIR, 'demo-accounts.txt'), 'utf8');
const account = (role) => {
  const m = new RegExp(`^\\s*${role}\\s+(\\S+)\\s+password (\\S+)(?:\\s+\\(unit (\\S+)\\))?`, 'm').exec(accounts);
  assert.ok(m, `a demo ${role} in demo-accounts.txt`);
  return { username: m[1], password: m[2], unit: m[3] };
};
const PERIOD = 'from=2020-01-01&to=2020-12-31';

test('pages hydrate under the nonce policy without a violation', async () => {
  const { context, errors, close } = await openBrowser();
  try {
    const page = await context.newPage();
    await page.addInitScript(() => {
      window.__cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    for (const path of [`/?${PERIOD}`, '/procedures', `/embed?${PERIOD}`, '/signin']) {
      const response = await page.goto(`${base}${path}`);
      const csp = response.headers()['content-security-policy'];
      assert.match(csp, /script-src 'self' 'nonce-[^']+' 'wasm-unsafe-eval'/, path);
      await waitHydrated(page);
      assert.deepEqual(await page.evaluate(() => window.__cspViolations), [], path);
    }
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('a chair signs in, works through their late dossiers and signs out', async () => {
  const chair = account('chair');
  const { context, errors, close } = await openBrowser();
  try {
    const page = await context.newPage();
    // Public first: the drill-down asks to sign in and shows no dossier.
    await page.goto(`${base}/late?unit=${chair.unit}&${PERIOD}`);
    await page.waitForSelector('.late-page .notice');
    assert.equal(await page.locator('.late-table').count(), 0);

    await page.click('.notice a');
    await page.waitForSelector('.signin-form');
    await page.fill('input[name=username]', chair.username);
    await page.fill('input[name=password]', 'wrong password, surely');
    await page.click('.signin-form button[type=submit]');
    await page.waitForSelector('.signin-page .error');

    await page.fill('input[name=username]', chair.username);
    await page.fill('input[name=password]', chair.password);
    await page.click('.signin-form button[type=submit]');
    await page.waitForURL(/\/late\?/);
    await page.waitForSelector('.late-table tbody tr');
    await waitHydrated(page);
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'iem_session');
    assert.ok(session && session.httpOnly && session.sameSite === 'Strict', JSON.stringify(cookies));
    // The viewer is asked for after hydration: wait for the answer rather than read the chrome at once.
    await page.waitForFunction((name) => document.querySelector('.account')?.textContent.includes(name), chair.username);
    assert.match(await page.textContent('.account'), new RegExp(chair.username));

    // The list's totals equal the stats' late figures for the district.
    const total = Number((await page.textContent('.late-summary strong')).replace(/\D/g, ''));
    const stats = await (await fetch(`${base}/api/v1/stats?${PERIOD}&level=district&parent=49`)).json();
    const row = stats.units.find((u) => u.code === chair.unit);
    assert.equal(total, row.resolved_late + row.pending_overdue);

    // Sort by due date ascending: the column's dates come in order.
    const due = 'th:has-text("Hạn trả kết quả")';
    await page.click(`${due} a`);
    await page.waitForURL(/sort=due/);
    await page.waitForSelector(`${due}[aria-sort="descending"]`);
    await page.click(`${due} a`);
    await page.waitForURL(/order=asc/);
    // The table is replaced once the new page of rows has arrived.
    await page.waitForSelector(`${due}[aria-sort="ascending"]`);
    const dues = await page.$$eval('.late-table tbody tr td:nth-child(6)', (tds) =>
      tds.map((td) => td.textContent.split('/').reverse().join('-')));
    assert.deepEqual([...dues].sort(), dues);

    // A dossier's timeline.
    const first = await page.locator('.late-table tbody tr').first().getAttribute('data-dossier');
    await page.click(`.late-table tbody tr[data-dossier="${first}"] td a`);
    await page.waitForSelector('.timeline-table tbody tr');
    assert.match(await page.textContent('.timeline h3'), new RegExp(first));

    // CSV export with the session cookie.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('.export-csv')]);
    const csv = readFileSync(await download.path(), 'utf8');
    assert.ok(csv.startsWith('\ufeffdossier_id,'), csv.slice(0, 80));
    assert.equal(csv.trim().split('\n').length - 1, total);

    // Another district is refused.
    const other = stats.units.find((u) => u.code !== chair.unit).code;
    await page.goto(`${base}/late?unit=${other}&${PERIOD}`);
    await page.waitForSelector('.late-page .notice');
    const refused = await page.request.get(`${base}/api/v1/late?unit=${other}&${PERIOD}`);
    assert.equal(refused.status(), 403);

    // Sign out: the cookie no longer opens anything.
    await page.goto(`${base}/?${PERIOD}`);
    await waitHydrated(page);
    await page.waitForSelector('form.signout button');
    await page.click('form.signout button');
    await page.waitForSelector('.signin-link');
    const after = await page.request.get(`${base}/api/v1/late?unit=${chair.unit}&${PERIOD}`);
    assert.equal(after.status(), 401);
    assert.deepEqual(errors.filter((e) => !/40[13]/.test(e)), []);
  } finally {
    await close();
  }
});

test("a commune chair of today sees the dossiers falling due soon on the late page's second tab", async () => {
  const m = /^\s*chair\s+(\S+\.2025)\s+password (\S+)\s+\(unit (\d+)@2025\)/m.exec(accounts);
  assert.ok(m, 'a demo chair of a commune of today');
  const [, username, password, unit] = m;
  const ingest = process.env.E2E_INGEST_TOKEN;
  // Two dossiers of the chair's commune due in the next days, received yesterday (Vietnam time).
  const day = (offset) => new Date(Date.now() + 7 * 3600e3 + offset * 86400e3).toISOString().slice(0, 10);
  const ids = [`E2E-DUE-${Date.now()}-1`, `E2E-DUE-${Date.now()}-2`];
  const events = ids.map((id, i) => JSON.stringify({
    event_id: `${id}:r`, dossier_id: id, type: 'received', at: `${day(-1)}T09:00:00+07:00`, unit, level: 'commune',
    procedure: 'DD-01', field: 'Đất đai', channel: 'direct', due: `${day(i + 1)}T17:00:00+07:00`, fee: false,
    paid_online: false,
  })).join('\n');
  const posted = await fetch(`${base}/api/v1/events`, {
    method: 'POST', body: events,
    headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${ingest}` },
  });
  assert.equal(posted.status, 200, await posted.text());

  const { context, errors, close } = await openBrowser();
  try {
    const page = await context.newPage();
    await page.goto(`${base}/signin?next=${encodeURIComponent(`/late?tab=due&unit=${unit}&within=10`)}`);
    await page.fill('input[name=username]', username);
    await page.fill('input[name=password]', password);
    await page.click('.signin-form button[type=submit]');
    await page.waitForURL(/tab=due/);
    await page.waitForSelector('.due-table');
    await waitHydrated(page);
    assert.equal(await page.getAttribute('.late-tabs a[aria-current="page"]', 'href').then((h) => h.includes('tab=due')), true);
    // The page shows what the API gives the same session, row for row.
    const api = await (await page.request.get(`${base}/api/v1/due?unit=${unit}&within=10&page_size=50`)).json();
    const shown = Number((await page.textContent('.due-summary strong')).replace(/\D/g, ''));
    assert.equal(shown, api.total);
    for (const id of ids) {
      const row = page.locator(`.due-table tbody tr[data-dossier="${id}"]`);
      assert.equal(await row.count(), 1, `${id} is listed`);
      const expected = api.rows.find((r) => r.dossier_id === id).working_days_left;
      assert.equal(Number(await row.locator('.working-days-left').textContent()), expected);
    }
    // The other tab is the late list, and back again.
    await page.click('.late-tabs a:not([aria-current])');
    await page.waitForSelector('.late-filters:not(.due-filters)');
    await page.click('.late-tabs a:not([aria-current])');
    await page.waitForSelector('.due-table');
    // Another commune's list is refused.
    const refused = await page.request.get(`${base}/api/v1/due?unit=20194`);
    assert.equal(refused.status(), 403);
    assert.deepEqual(errors.filter((e) => !/40[13]/.test(e)), []);
  } finally {
    await close();
  }
});

test('a leader of today defines an alert rule on the alerts page, is told, and marks it read', async () => {
  const m = /^\s*leader\s+(\S+\.2025)\s+password (\S+)\s+\(unit (\d+)@2025\)/m.exec(accounts);
  assert.ok(m, 'a demo leader of a province of today');
  const [, username, password, province] = m;
  // One dossier of a commune of the province resolved late today: its rate this month is under 100%.
  const day = (offset) => new Date(Date.now() + 7 * 3600e3 + offset * 86400e3).toISOString().slice(0, 10);
  const commune = '20194';
  const id = `E2E-ALERT-${Date.now()}`;
  const events = [
    { event_id: `${id}:r`, dossier_id: id, type: 'received', at: `${day(-10)}T09:00:00+07:00`, unit: commune,
      level: 'commune', procedure: 'DD-01', field: 'Đất đai', channel: 'direct', due: `${day(-3)}T17:00:00+07:00`,
      fee: false, paid_online: false },
    { event_id: `${id}:s`, dossier_id: id, type: 'resolved', at: `${day(0)}T00:00:01+07:00` },
  ].map((e) => JSON.stringify(e)).join('\n');
  const posted = await fetch(`${base}/api/v1/events`, {
    method: 'POST', body: events,
    headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${process.env.E2E_INGEST_TOKEN}` },
  });
  assert.equal(posted.status, 200, await posted.text());

  const { context, errors, close } = await openBrowser();
  try {
    const page = await context.newPage();
    await page.goto(`${base}/signin?next=${encodeURIComponent('/alerts')}`);
    await page.fill('input[name=username]', username);
    await page.fill('input[name=password]', password);
    await page.click('.signin-form button[type=submit]');
    await page.waitForURL(/\/alerts/);
    await page.waitForSelector('.rule-form');
    await waitHydrated(page);
    // The form offers e-mail too; this server has no SMTP relay, and says so, naming it.
    await page.fill('.rule-form input[name=name]', 'Thư khi dưới 95%');
    await page.fill('.rule-form input[name=unit]', province);
    await page.fill('.rule-form input[name=email]', 'lanhdao@example.gov.vn');
    await page.click('.rule-form button[type=submit]');
    await page.waitForSelector('.rule-form .error');
    assert.match(await page.textContent('.rule-form .error'), /SMTP/);
    assert.equal(await page.locator('.alert-rule').count(), 0, 'nothing half-stored');
    await page.fill('.rule-form input[name=email]', '');
    await page.fill('.rule-form input[name=name]', 'Xã dưới 100%');
    await page.fill('.rule-form input[name=unit]', province);
    await page.check('.rule-form input[name=each]');
    await page.fill('.rule-form input[name=value]', '100');
    await page.click('.rule-form button[type=submit]');
    await page.waitForSelector('.alert-rule');
    assert.match(await page.textContent('.alert-rule'), /Xã dưới 100%/);
    // The server evaluates a new rule at once: the commune's alert appears (read again until it does).
    let found = false;
    for (let i = 0; i < 20 && !found; i += 1) {
      await page.reload();
      await page.waitForSelector('.alert-summary');
      found = (await page.locator(`.alert:has-text("(${commune})")`).count()) > 0;
      if (!found) await page.waitForTimeout(500);
    }
    assert.ok(found, 'an alert for the commune with a late dossier');
    await waitHydrated(page);
    const unread = Number(await page.textContent('.unread-count'));
    assert.ok(unread >= 1, `${unread} unread`);
    await page.waitForSelector('.alerts-link .badge');
    assert.equal(Number(await page.textContent('.alerts-link .badge')), unread);
    await page.click('.mark-read');
    await page.waitForFunction(() => document.querySelector('.unread-count')?.textContent === '0');
    // Deleted, the rule is gone from the list.
    await page.click('.alert-rule .delete-rule');
    await page.waitForSelector('.alert-rules-section .empty');
    // Someone signed out is asked to sign in.
    const anonymous = await fetch(`${base}/api/v1/alerts`);
    assert.equal(anonymous.status, 401);
    // The e-mail rule's refusal (400) is expected; the sign-in probes answer 401/403.
    assert.deepEqual(errors.filter((e) => !/40[013]/.test(e)), []);
  } finally {
    await close();
  }
});

test("a leader of today sees on the dashboard how many dossiers fall due soon, and a map of them; the public does not", async () => {
  const m = /^\s*leader\s+(\S+\.2025)\s+password (\S+)\s+\(unit (\d+)@2025\)/m.exec(accounts);
  assert.ok(m, 'a demo leader of a province of today');
  const [, username, password, province] = m;
  const { context, errors, close } = await openBrowser();
  try {
    const page = await context.newPage();
    await page.goto(`${base}/signin?next=${encodeURIComponent(`/?unit=${province}`)}`);
    await page.fill('input[name=username]', username);
    await page.fill('input[name=password]', password);
    await page.click('.signin-form button[type=submit]');
    await page.waitForURL((url) => new URL(url).pathname === '/');
    await waitHydrated(page);
    await page.waitForSelector('.due-soon .card .figure');
    const api = await (await page.request.get(`${base}/api/v1/due?unit=${province}&page_size=1`)).json();
    const shown = Number((await page.textContent('.due-soon .card .figure')).replace(/\D/g, ''));
    assert.equal(shown, api.total, 'the card counts what the due-soon list holds');
    assert.match(await page.getAttribute('.due-soon a', 'href'), new RegExp(`tab=due&unit=${province}`));
    // The map indicator: each commune coloured by its count, named in the legend.
    await page.selectOption('select[name=indicator]', 'due_soon');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('indicator') === 'due_soon');
    await page.waitForFunction(() => /sắp đến hạn/i.test(document.querySelector('figcaption h3')?.textContent ?? ''));
    assert.ok((await page.$$eval('path.unit', (ps) => ps.length)) > 10);
    await page.screenshot({ path: join(output, 'due-soon-dashboard.png'), fullPage: true });
    assert.deepEqual(errors.filter((e) => !/40[13]/.test(e)), []);
  } finally {
    await close();
  }
  // Someone not signed in: the same page, without any of it.
  const anonymous = await openBrowser();
  try {
    const page = await anonymous.context.newPage();
    await page.goto(`${base}/?unit=${province}&indicator=due_soon`);
    await waitHydrated(page);
    await page.waitForTimeout(500);
    assert.equal(await page.locator('.due-soon').count(), 0);
    assert.equal(await page.locator('option[value=due_soon]').count(), 0);
    assert.doesNotMatch(await page.textContent('figcaption h3'), /sắp đến hạn/i);
  } finally {
    await anonymous.close();
  }
});
