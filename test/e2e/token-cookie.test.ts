// In real Chromium: an editor opened with /?token= gets the token as an HttpOnly cookie (out of the
// address bar and out of reach of page scripts), and the browser sends that cookie with same-origin
// requests and with the WebSocket upgrade, so the page needs no token of its own.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/api-server.ts';
import { openBrowser, type BrowserSession } from './harness.ts';

const TOKEN = 'browser-token-0123456789abcdef';

/** A stand-in editor: reports what its fetch and WebSocket got into the page title. */
const PAGE = `<!doctype html><title>waiting</title><script>
  const report = [];
  fetch('/api/queue').then((r) => report.push('fetch ' + r.status));
  const ws = new WebSocket(location.origin.replace(/^http/, 'ws') + '/ws?clientId=browser');
  ws.onmessage = (e) => { if (JSON.parse(e.data).type === 'status') report.push('ws status'); };
  ws.onerror = () => report.push('ws error');
  setInterval(() => { document.title = report.sort().join(', ') + ' | cookie "' + document.cookie + '"'; }, 50);
</script>`;

let server: TestServer;
let browser: BrowserSession;

beforeAll(async () => {
  const clientDist = mkdtempSync(path.join(tmpdir(), 'limelight-token-page-'));
  writeFileSync(path.join(clientDist, 'index.html'), PAGE);
  server = await startTestServer({ token: TOKEN, clientDist });
  browser = await openBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

it('keeps the token in an HttpOnly cookie the browser sends with fetches and the WebSocket upgrade', async () => {
  const { page } = browser;
  await page.goto(`${server.url}/?token=${TOKEN}`);
  expect(page.url()).toBe(`${server.url}/`);
  await page.waitForFunction(() => (globalThis as unknown as { document: { title: string } }).document.title.startsWith('fetch 200, ws status'), undefined, { timeout: 15_000 });
  expect(await page.title()).toBe('fetch 200, ws status | cookie ""');

  const cookies = await browser.context.cookies(server.url);
  expect(cookies).toEqual([expect.objectContaining({ value: TOKEN, httpOnly: true, sameSite: 'Strict' })]);

  await browser.context.clearCookies();
  const refused = await page.goto(`${server.url}/`);
  expect(refused?.status()).toBe(401);
}, 60_000);
