// Who may use a server: a non-loopback bind needs --allow-host and/or a token; Host names are checked
// against DNS rebinding; the token is taken from a Bearer header, ?token= or the editor's cookie, on
// HTTP and the WebSocket alike; origins are compared with their scheme.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenCookieName } from '../../server/api/access-token.ts';
import { UnsafeBindError } from '../../server/api/origin-guard.ts';
import { startServer } from '../../server/api/server.ts';
import { limelight } from '../helpers/cli.ts';
import { API_TEST_NODE_SET } from '../helpers/api-nodes.ts';
import { EventClient, rawRequest, startTestServer, testSettings, type TestServer } from '../helpers/api-server.ts';

const TOKEN = 'test-token-0123456789abcdef';

describe('starting on a non-loopback address', () => {
  it('is refused without --allow-host or a token, saying why and what to add', async () => {
    const start = startServer({ nodes: API_TEST_NODE_SET, settings: testSettings(), host: '0.0.0.0', port: 0 });
    await expect(start).rejects.toThrow(UnsafeBindError);
    await expect(start).rejects.toThrow(/refusing to listen on 0\.0\.0\.0.*DNS rebinding.*--allow-host NAME.*--token/);
  });

  it('is refused by `limelight serve` with the usage exit code, before building or generating anything', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'limelight-serve-'));
    const refused = await limelight(['serve', '--host', '0.0.0.0', '--port', '0'], dir);
    expect(refused.code).toBe(64);
    expect(refused.stdout).toMatch(/refusing to listen on 0\.0\.0\.0/);
    expect(refused.stdout).not.toMatch(/building|generating/);
    for (const [flags, message] of [
      [['--token', 'short'], /16 to 256 characters/],
      [['--allow-host', 'http://studio.local'], /--allow-host takes a host name/],
    ] as const) {
      const bad = await limelight(['serve', '--host', '0.0.0.0', '--port', '0', ...flags], dir);
      expect(bad.code, flags.join(' ')).toBe(64);
      expect(bad.stdout).toMatch(message);
    }
  }, 60_000);
});

describe('a server on 0.0.0.0 with --allow-host', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ host: '0.0.0.0', allowHosts: ['Studio.local'] });
  });
  afterAll(() => server.close());

  const get = (host: string) => rawRequest(`http://127.0.0.1:${server.port}`, { path: '/queue', headers: { host } });

  it('answers the allowed names, loopback names and numeric addresses', async () => {
    for (const host of [`studio.local:${server.port}`, `STUDIO.LOCAL:${server.port}`, `localhost:${server.port}`, `192.168.1.20:${server.port}`, `[fe80::1]:${server.port}`]) {
      expect((await get(host)).status, host).toBe(200);
    }
  });

  it('refuses other host names (a rebinding page), on HTTP and the WebSocket', async () => {
    const rebound = await get(`attacker.example:${server.port}`);
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body).error).toMatchObject({ type: 'forbidden_host' });
    expect(JSON.parse(rebound.body).error.details).toMatch(/--allow-host attacker\.example/);
    await expect(EventClient.connect(`http://127.0.0.1:${server.port}`, 'clientId=x', { host: `attacker.example:${server.port}` })).rejects.toThrow(/403/);
  });
});

describe('a server with an access token', () => {
  let server: TestServer;
  let host: string;
  beforeAll(async () => {
    server = await startTestServer({ token: TOKEN, allowOrigins: ['http://localhost:5173'] });
    host = new URL(server.url).host;
  });
  afterAll(() => server.close());

  const request = (routePath: string, headers: Record<string, string> = {}) => rawRequest(server.url, { path: routePath, headers: { host, ...headers } });

  it('refuses requests without the token or with a wrong one (401), the editor page with a page saying what to do', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong-token-0123456789' }, { authorization: `Bearer ${TOKEN}x` }, { cookie: `${tokenCookieName(host)}=nope` }] as Record<string, string>[]) {
      const res = await request('/queue', headers);
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(JSON.parse(res.body).error.type).toBe('token_required');
    }
    expect((await request('/queue?token=wrong')).status).toBe(401);
    const page = await request('/');
    expect(page.status).toBe(401);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toMatch(/needs its access token/);
  });

  it('accepts the token as a Bearer header, as ?token= and as the cookie', async () => {
    expect((await request('/queue', { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    expect((await request(`/api/queue?token=${TOKEN}`)).status).toBe(200);
    expect((await request('/queue', { cookie: `other=1; ${tokenCookieName(host)}=${TOKEN}` })).status).toBe(200);
  });

  it('keeps the token of an editor opened with /?token= in an HttpOnly, SameSite=Strict cookie and redirects to /', async () => {
    const res = await request(`/?token=${TOKEN}&workflow=a`);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/?workflow=a');
    const [cookie] = res.headers['set-cookie'] ?? [];
    expect(cookie).toBe(`${tokenCookieName(host)}=${TOKEN}; Path=/; HttpOnly; SameSite=Strict`);
    expect((await request('/', { cookie: cookie.split(';')[0] })).status).toBe(200);
  });

  it('takes the token on the WebSocket as ?token= or the cookie, and refuses it otherwise', async () => {
    await expect(EventClient.connect(server.url, 'clientId=none')).rejects.toThrow(/401/);
    const byQuery = await EventClient.connect(server.url, `clientId=q&token=${TOKEN}`);
    await byQuery.waitFor((m) => m.type === 'status');
    await byQuery.close();
    const byCookie = await EventClient.connect(server.url, 'clientId=c', { cookie: `${tokenCookieName(host)}=${TOKEN}` });
    await byCookie.waitFor((m) => m.type === 'status');
    await byCookie.close();
  });

  it('answers a CORS preflight from an allowed origin without the token (browsers send none), then wants it', async () => {
    const preflight = await rawRequest(server.url, { method: 'OPTIONS', path: '/prompt', headers: { host, origin: 'http://localhost:5173' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-headers']).toMatch(/Authorization/);
    expect((await request('/queue', { origin: 'http://localhost:5173' })).status).toBe(401);
  });
});

describe('a server on 0.0.0.0 with only a token', () => {
  it('answers any host name with the token and none without it', async () => {
    const server = await startTestServer({ host: '0.0.0.0', token: TOKEN });
    const url = `http://127.0.0.1:${server.port}`;
    const host = `attacker.example:${server.port}`;
    expect((await rawRequest(url, { path: '/queue', headers: { host } })).status).toBe(401);
    expect((await rawRequest(url, { path: '/queue', headers: { host, authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    await server.close();
  });
});

describe('origin checks compare the scheme', () => {
  it('refuses https:// and ws:// origins naming this host and port', async () => {
    const server = await startTestServer();
    const host = new URL(server.url).host;
    for (const origin of [`https://${host}`, `ws://${host}`]) {
      const res = await rawRequest(server.url, { method: 'POST', path: '/queue', headers: { host, origin, 'content-type': 'application/json' }, body: '{}' });
      expect(res.status, origin).toBe(403);
    }
    expect((await rawRequest(server.url, { method: 'POST', path: '/queue', headers: { host, origin: `http://${host}` }, body: '{}' })).status).toBe(200);
    await expect(EventClient.connect(server.url, 'clientId=s', { origin: `https://${host}` })).rejects.toThrow(/403/);
    await server.close();
  });
});
