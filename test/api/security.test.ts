// Cross-origin requests, DNS rebinding, malformed bodies: refused with the right status, server alive.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventClient, fetchJson, rawRequest, startTestServer, textPrompt, type TestServer } from '../helpers/api-server.ts';

let server: TestServer;
let host: string;

beforeAll(async () => {
  server = await startTestServer();
  host = new URL(server.url).host;
});

afterAll(async () => {
  await server.close();
});

const promptBody = JSON.stringify({ prompt: textPrompt('origin check') });

async function alive(target = server): Promise<void> {
  expect((await fetchJson(`${target.url}/system_stats`)).status).toBe(200);
}

describe('origin checks', () => {
  it('refuses a cross-origin POST and accepts a same-origin one', async () => {
    const cross = await rawRequest(server.url, { method: 'POST', path: '/prompt', headers: { host, origin: 'http://evil.example', 'content-type': 'application/json' }, body: promptBody });
    expect(cross.status).toBe(403);
    expect(JSON.parse(cross.body).error.details).toMatch(/--allow-origin http:\/\/evil\.example/);
    const nullOrigin = await rawRequest(server.url, { method: 'POST', path: '/prompt', headers: { host, origin: 'null' }, body: promptBody });
    expect(nullOrigin.status).toBe(403);
    const same = await rawRequest(server.url, { method: 'POST', path: '/prompt', headers: { host, origin: `http://${host}`, 'content-type': 'application/json' }, body: promptBody });
    expect(same.status).toBe(200);
    expect((await fetchJson(`${server.url}/queue`)).status).toBe(200);
  });

  it('refuses requests addressed to a non-loopback host name (DNS rebinding) on a loopback server', async () => {
    const rebound = await rawRequest(server.url, { path: '/queue', headers: { host: `attacker.example:${server.port}` } });
    expect(rebound.status).toBe(403);
    const localhost = await rawRequest(server.url, { path: '/queue', headers: { host: `localhost:${server.port}` } });
    expect(localhost.status).toBe(200);
  });

  it('refuses a cross-origin WebSocket, accepts a same-origin one', async () => {
    await expect(EventClient.connect(server.url, 'clientId=evil', { origin: 'http://evil.example' })).rejects.toThrow(/403/);
    const ok = await EventClient.connect(server.url, 'clientId=fine', { origin: `http://${host}` });
    await ok.waitFor((m) => m.type === 'status');
    await ok.close();
  });

  it('lets an allowed origin in, with CORS headers and preflight', async () => {
    const open = await startTestServer({ allowOrigins: ['http://localhost:5173'] });
    const openHost = new URL(open.url).host;
    const preflight = await rawRequest(open.url, { method: 'OPTIONS', path: '/prompt', headers: { host: openHost, origin: 'http://localhost:5173' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    const post = await rawRequest(open.url, { method: 'POST', path: '/prompt', headers: { host: openHost, origin: 'http://localhost:5173' }, body: promptBody });
    expect(post.status).toBe(200);
    const other = await rawRequest(open.url, { method: 'POST', path: '/prompt', headers: { host: openHost, origin: 'http://localhost:9999' }, body: promptBody });
    expect(other.status).toBe(403);
    await open.close();
  });
});

describe('malformed requests', () => {
  it('answers malformed JSON with 400 invalid_json on every JSON route', async () => {
    for (const route of ['/prompt', '/queue', '/interrupt', '/history', '/free', '/api/prompt']) {
      const res = await fetchJson(server.url + route, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt": {' });
      expect(res.status, route).toBe(400);
      expect((await res.json()).error.type).toBe('invalid_json');
    }
    await alive();
  });

  it('answers prompts of the wrong shape with 400, never 500', async () => {
    const bodies: unknown[] = [[], 'text', 42, null, { prompt: [] }, { prompt: 'x' }, { prompt: { '1': null } }, { prompt: { '1': { class_type: 5 } } },
      { prompt: textPrompt('x'), number: 'NaN!' }, { prompt: textPrompt('x'), prompt_id: 7 }, { prompt: textPrompt('x'), client_id: {} },
      { prompt: textPrompt('x'), partial_execution_targets: 'all' }, { workflow: { nodes: 'x', links: [] } }, { prompt: { __proto__: { x: 1 } } }];
    for (const body of bodies) {
      const res = await fetchJson(`${server.url}/prompt`, { method: 'POST', body: JSON.stringify(body) });
      expect(res.status, JSON.stringify(body)).toBe(400);
      const answer = await res.json();
      expect(answer.error.type, JSON.stringify(body)).toEqual(expect.any(String));
      expect(answer).toHaveProperty('node_errors');
    }
    await alive();
  });

  it('answers bad route parameters and unknown routes without failing', async () => {
    expect((await fetchJson(`${server.url}/history/%E0%A4%A`)).status).toBe(400);
    expect((await fetchJson(`${server.url}/object_info/NoSuchType`).then((r) => r.json()))).toEqual({});
    expect((await fetchJson(`${server.url}/no/such/route`)).status).toBe(404);
    expect((await fetchJson(`${server.url}/workflows/..%2Fpackage.json`)).status).toBe(400);
    await alive();
  });
});
