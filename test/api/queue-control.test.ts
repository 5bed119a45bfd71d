// Interrupt, queue and history management, replay after a reconnect, watching all prompts.
import { unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventClient, fetchJson, holdPrompt, startTestServer, textPrompt, type TestServer } from '../helpers/api-server.ts';

let server: TestServer;
let client: EventClient;

beforeAll(async () => {
  server = await startTestServer();
  client = await EventClient.connect(server.url, 'clientId=control');
});

afterAll(async () => {
  await client.close();
  await server.close();
});

async function queue(prompt: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await server.post('/prompt', { prompt, client_id: 'control', ...extra });
  expect(res.status).toBe(200);
  return ((await res.json()) as { prompt_id: string }).prompt_id;
}

const firstProgress = (promptId: string) => client.waitFor((m) => m.type === 'progress' && m.data.prompt_id === promptId);

describe('interrupt', () => {
  it('stops the running prompt (only the one named, when named) and goes on with the queue', async () => {
    const held = await queue(holdPrompt('interrupt me'));
    const next = await queue(textPrompt('after the interrupt'));
    await firstProgress(held);

    const wrong = await server.post('/interrupt', { prompt_id: next });
    expect(await wrong.json()).toEqual({ interrupted: false });
    const right = await server.post('/interrupt', { prompt_id: held });
    expect(await right.json()).toEqual({ interrupted: true });

    const end = await client.done(held);
    expect(end.type).toBe('execution_interrupted');
    expect(end.data).toMatchObject({ node_id: '1', node_type: 'TestHold' });
    await client.waitFor((m) => m.type === 'executing' && m.data.prompt_id === held && m.data.node === null);
    expect((await client.done(next)).type).toBe('execution_success');

    const entry = (await (await server.get(`/history/${held}`)).json())[held];
    expect(entry.status).toMatchObject({ status_str: 'error', completed: false });
    expect(entry.status.messages.at(-1)[0]).toBe('execution_interrupted');
  });

  it('interrupts whatever runs when no prompt is named', async () => {
    const held = await queue(holdPrompt('plain interrupt'));
    await firstProgress(held);
    const res = await fetchJson(`${server.url}/interrupt`, { method: 'POST' });
    expect(await res.json()).toEqual({ interrupted: true });
    expect((await client.done(held)).type).toBe('execution_interrupted');
  });
});

describe('a prompt that became invalid while queued', () => {
  it('fails with execution_error naming the node, and the queue goes on', async () => {
    writeFileSync(path.join(server.settings.folders.input, 'note.txt'), 'a note');
    const held = await queue(holdPrompt('hold while the file goes'));
    const reader = await queue({ '1': { class_type: 'TestReadInput', inputs: { file: 'note.txt' } } });
    await firstProgress(held);
    unlinkSync(path.join(server.settings.folders.input, 'note.txt'));
    await server.post('/interrupt', { prompt_id: held });
    const error = await client.done(reader);
    expect(error.type).toBe('execution_error');
    expect(error.data).toMatchObject({ node_id: '1', node_type: 'TestReadInput', exception_type: 'ValidationError' });
    expect(error.data.exception_message).toMatch(/note\.txt/);
    expect(client.forPrompt(reader).map((m) => m.type)).toEqual(['execution_start', 'execution_error', 'executing']);
    const entry = (await (await server.get(`/history/${reader}`)).json())[reader];
    expect(entry.status).toMatchObject({ status_str: 'error', completed: false });
  });
});

describe('the queue', () => {
  it('lists running and pending items as ComfyUI tuples, in number order, with front first; delete and clear', async () => {
    const held = await queue(holdPrompt('blocking'));
    await firstProgress(held);
    const a = await queue(textPrompt('a'));
    const b = await queue(textPrompt('b'));
    const front = await queue(textPrompt('front'), { front: true });

    let state = await (await server.get('/queue')).json();
    expect(state.queue_running.map((item: unknown[]) => item[1])).toEqual([held]);
    expect(state.queue_pending.map((item: unknown[]) => item[1])).toEqual([front, a, b]);
    const [number, id, prompt, extra, outputs] = state.queue_pending[1];
    expect([typeof number, id, prompt, extra.client_id, outputs]).toEqual(['number', a, textPrompt('a'), 'control', ['2']]);
    expect(state.queue_pending[0][0]).toBeLessThan(0);
    expect(await (await server.get('/prompt')).json()).toEqual({ exec_info: { queue_remaining: 4 } });

    expect(await (await server.post('/queue', { delete: [a, 'not-queued'] })).json()).toEqual({ deleted: 1 });
    state = await (await server.get('/queue')).json();
    expect(state.queue_pending.map((item: unknown[]) => item[1])).toEqual([front, b]);

    expect(await (await server.post('/queue', { clear: true })).json()).toEqual({ deleted: 2 });
    state = await (await server.get('/queue')).json();
    expect(state.queue_pending).toEqual([]);
    expect(state.queue_running.map((item: unknown[]) => item[1])).toEqual([held]);
    const statusAfterClear = await client.waitFor((m) => m.type === 'status' && (m.data.status as { exec_info: { queue_remaining: number } }).exec_info.queue_remaining === 1);
    expect(statusAfterClear.data.status).toEqual({ exec_info: { queue_remaining: 1 } });

    await server.post('/interrupt', {});
    await client.done(held);
    expect((await server.post('/queue', { delete: 'oops' })).status).toBe(400);
    expect((await server.post('/prompt', { prompt: textPrompt('dup'), prompt_id: held })).status).toBe(200);
  });
});

describe('the history', () => {
  it('lists the newest max_items oldest first; deletes and clears', async () => {
    const ids = [];
    for (const text of ['h1', 'h2', 'h3']) {
      const id = await queue(textPrompt(text));
      await client.done(id);
      ids.push(id);
    }
    const lastTwo = await (await server.get('/history?max_items=2')).json();
    expect(Object.keys(lastTwo)).toEqual(ids.slice(1));
    expect((await server.get('/history?max_items=two')).status).toBe(400);
    expect(await (await server.get('/history/unknown-id')).json()).toEqual({});

    expect(await (await server.post('/history', { delete: [ids[0]] })).json()).toEqual({ deleted: 1 });
    expect(Object.keys(await (await server.get('/history')).json())).not.toContain(ids[0]);
    await server.post('/history', { clear: true });
    expect(await (await server.get('/history')).json()).toEqual({});
  });
});

describe('reconnecting', () => {
  it('replays the events a client missed, in order, when it reconnects with since=<last seq>', async () => {
    const watcher = await EventClient.connect(server.url, 'clientId=replayer');
    const status = await watcher.waitFor((m) => m.type === 'status');
    expect(status.data.sid).toBe('replayer');
    const lastSeen = watcher.messages.at(-1)!.seq!;
    await watcher.close();

    const from = client.messages.length;
    const res = await server.post('/prompt', { prompt: textPrompt('while away'), client_id: 'replayer' });
    const { prompt_id } = await res.json();
    // The status broadcast after the run tells the other client the queue is empty again.
    await client.waitFor((m) => m.type === 'status' && (m.data.status as { exec_info: { queue_remaining: number } }).exec_info.queue_remaining === 0, from);

    const back = await EventClient.connect(server.url, `clientId=replayer&since=${lastSeen}`);
    const replay = await back.waitFor((m) => m.type === 'replay');
    expect(replay.data).toMatchObject({ since: lastSeen, complete: true });
    await back.waitFor((m) => m.type === 'execution_success' && m.data.prompt_id === prompt_id);
    const replayed = back.messages.filter((m) => m.seq !== undefined);
    expect(replayed[0].seq).toBe(lastSeen + 1);
    expect(replayed.map((m) => m.seq)).toEqual(replayed.map((_, i) => lastSeen + 1 + i));
    expect(back.forPrompt(prompt_id).map((m) => m.type)).toEqual(expect.arrayContaining(['execution_start', 'executed', 'execution_success']));
    await back.close();

    const fresh = await EventClient.connect(server.url, 'clientId=never-seen&since=40');
    expect((await fresh.waitFor((m) => m.type === 'replay')).data).toMatchObject({ complete: false });
    await fresh.close();
  });
});

describe('watching', () => {
  it('keeps a prompt to its client by default, and shows it to every viewer with watchAll', async () => {
    const other = await EventClient.connect(server.url, 'clientId=bystander');
    const id = await queue(textPrompt('private'));
    await client.done(id);
    await other.waitFor((m) => m.type === 'status' && (m.data.status as { exec_info: { queue_remaining: number } }).exec_info.queue_remaining === 0 && m.seq! > 2);
    expect(other.forPrompt(id)).toEqual([]);
    await other.close();

    const open = await startTestServer({ watchAll: true });
    const owner = await EventClient.connect(open.url, 'clientId=owner');
    const viewer = await EventClient.connect(open.url, 'clientId=viewer');
    const res = await open.post('/prompt', { prompt: textPrompt('public'), client_id: 'owner' });
    const { prompt_id } = await res.json();
    expect((await viewer.done(prompt_id)).type).toBe('execution_success');
    expect((await owner.done(prompt_id)).type).toBe('execution_success');
    await owner.close();
    await viewer.close();
    await open.close();
  });
});
