// Runs the browser tests against a release build: starts the server on a free port with a
// fresh data directory, runs `node --test`, then stops the server with SIGTERM.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const targetDir = process.env.CARGO_TARGET_DIR;
const siteDir = process.env.SITE_DIR;
if (!targetDir || !siteDir) {
  console.error('CARGO_TARGET_DIR and SITE_DIR must be set (run through `make e2e`)');
  process.exit(2);
}

const freePort = () =>
  new Promise((ok, fail) => {
    const s = createServer();
    s.unref();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });

const port = await freePort();
const dataDir = mkdtempSync(join(tmpdir(), 'iem-e2e-'));
const outputDir = join(root, 'end2end', 'output');
mkdirSync(outputDir, { recursive: true });
const base = `http://127.0.0.1:${port}`;

const server = spawn(join(targetDir, 'release', 'server'), ['serve'], {
  cwd: root,
  env: {
    ...process.env,
    LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
    IEM_DATA_DIR: dataDir,
    IEM_SITE_ROOT: siteDir,
    IEM_CONFIG_DIR: join(root, 'data'),
    RUST_LOG: process.env.RUST_LOG ?? 'warn',
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let serverOut = '';
server.stdout.on('data', (d) => (serverOut += d));
const exited = new Promise((ok) => server.on('exit', (code, signal) => ok({ code, signal })));

async function waitReady(deadlineMs) {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    try {
      const r = await fetch(`${base}/readyz`);
      if (r.ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`server not ready within ${deadlineMs} ms`);
}

let status = 1;
try {
  const started = Date.now();
  await waitReady(180_000);
  console.log(`server ready at ${base} after ${Date.now() - started} ms`);
  const token = /ingest token[^:]*: (\S+)/.exec(serverOut)?.[1] ?? '';
  const tests = spawn(process.execPath, ['--test', '--test-concurrency=1', join(root, 'end2end', 'tests')], {
    cwd: root,
    env: { ...process.env, E2E_BASE_URL: base, E2E_OUTPUT: outputDir, E2E_INGEST_TOKEN: token },
    stdio: 'inherit',
  });
  status = await new Promise((ok) => tests.on('exit', (code) => ok(code ?? 1)));
} catch (e) {
  console.error(String(e));
} finally {
  server.kill('SIGTERM');
  const { code, signal } = await exited;
  rmSync(dataDir, { recursive: true, force: true });
  if (code !== 0) {
    console.error(`server did not shut down cleanly on SIGTERM (code ${code}, signal ${signal})`);
    status = status || 1;
  }
}
process.exit(status);
