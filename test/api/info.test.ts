// /object_info, /system_stats, /free, the example workflows and the page at `/`.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventClient, startTestServer, textPrompt, type TestServer } from '../helpers/api-server.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server.close();
});

describe('node and system information', () => {
  it('gives ComfyUI object_info for all nodes and for one', async () => {
    const all = await (await server.get('/object_info')).json();
    expect(Object.keys(all)).toEqual(expect.arrayContaining(['Text', 'SaveText', 'TestHold']));
    expect(all.SaveText).toMatchObject({
      input: { required: { value: ['*', expect.any(Object)], filename_prefix: ['STRING', { default: 'limelight/text' }] } },
      input_order: { required: ['value', 'filename_prefix'] },
      output: [],
      output_node: true,
      name: 'SaveText',
      display_name: 'Save Text',
      category: expect.any(String),
    });
    expect(await (await server.get('/object_info/SaveText')).json()).toEqual({ SaveText: all.SaveText });
  });

  it('reports system stats in ComfyUI shape with the onnxruntime provider, and unloads models on POST /free', async () => {
    const stats = await (await server.get('/system_stats')).json();
    expect(stats.system).toMatchObject({ os: process.platform, ram_total: expect.any(Number), ram_free: expect.any(Number), comfyui_version: expect.stringMatching(/^limelight-/) });
    expect(stats.devices[0]).toMatchObject({ index: 0, type: 'cpu', vram_total: 0, onnxruntime_provider: null });
    expect(stats.limelight).toEqual({ memory_cache: { entries: expect.any(Number), bytes: expect.any(Number), budget_bytes: 64 * 1024 * 1024 }, sessions: [] });

    let unloaded = 0;
    const cuda = { provider: 'cuda', sessions: [], memoryCache: { entries: 0, bytes: 0, budgetBytes: 0 } };
    const withRuntime = await startTestServer({ runtime: { stats: async () => cuda, free: async ({ models }) => void (unloaded += Number(models)) } });
    const device = (await (await withRuntime.get('/system_stats')).json()).devices[0];
    expect(device).toMatchObject({ name: 'cuda', type: 'cuda', onnxruntime_provider: 'cuda' });
    expect(await (await withRuntime.post('/free', { unload_models: true })).json()).toEqual({ freed_memory: false, unloaded_models: true });
    expect(unloaded).toBe(1);
    await withRuntime.close();
  });

  it('frees the memory cache on POST /free: an unchanged prompt then runs again', async () => {
    const client = await EventClient.connect(server.url, 'clientId=free');
    const cachedNodes = async () => {
      const { prompt_id } = await (await server.post('/prompt', { prompt: textPrompt('free me'), client_id: 'free' })).json();
      await client.done(prompt_id);
      return client.forPrompt(prompt_id).find((m) => m.type === 'execution_cached')!.data.nodes;
    };
    await cachedNodes();
    expect(await cachedNodes()).toEqual(['1', '2']);
    const res = await server.post('/free', { free_memory: true, unload_models: true });
    expect(await res.json()).toEqual({ freed_memory: true, unloaded_models: true });
    expect(await cachedNodes()).toEqual([]);
    await client.close();
  });
});

describe('example workflows and the client', () => {
  it('lists the example workflows and serves each', async () => {
    const dir = path.join(server.settings.root, 'workflows');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'basic.json'), '{"nodes": [], "links": []}');
    writeFileSync(path.join(dir, 'notes.txt'), 'not a workflow');
    expect(await (await server.get('/workflows')).json()).toEqual([{ name: 'basic', file: 'basic.json' }]);
    expect(await (await server.get('/workflows/basic.json')).json()).toEqual({ nodes: [], links: [] });
    expect((await server.get('/workflows/missing.json')).status).toBe(404);
  });

  it('refuses to share its database with a second server', async () => {
    await expect(startTestServer({ settings: server.settings })).rejects.toThrow(/in use by another Limelight server/);
    expect((await server.get('/queue')).status).toBe(200);
  });

  it('shows a placeholder page until the client is built, then the client', async () => {
    const placeholder = await server.get('/');
    expect(placeholder.status).toBe(200);
    expect(await placeholder.text()).toMatch(/has not been built/);

    const dist = path.join(server.settings.root, 'dist');
    mkdirSync(path.join(dist, 'assets'), { recursive: true });
    writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>editor</title>');
    writeFileSync(path.join(dist, 'assets', 'app.js'), 'console.log(1)');
    const built = await startTestServer({ clientDist: dist });
    expect(await (await built.get('/')).text()).toMatch(/<title>editor<\/title>/);
    const script = await built.get('/assets/app.js');
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    await built.close();
  });
});
