// Queueing prompts over HTTP and the socket, and the events, outputs and history they produce.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventClient, fetchJson, slowPrompt, startTestServer, textPrompt, type TestServer } from '../helpers/api-server.ts';

let server: TestServer;
let client: EventClient;

beforeAll(async () => {
  server = await startTestServer();
  client = await EventClient.connect(server.url, 'clientId=flow');
});

afterAll(async () => {
  await client.close();
  await server.close();
});

async function queue(prompt: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const res = await server.post('/prompt', { prompt, client_id: 'flow', ...extra });
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body as { prompt_id: string; number: number; node_errors: Record<string, unknown> };
}

describe('a prompt queued over HTTP', () => {
  it('sends the full event sequence in order, serves the output through /view and keeps it in /history', async () => {
    const { prompt_id, number, node_errors } = await queue(textPrompt('hello from the api'));
    expect(typeof number).toBe('number');
    expect(node_errors).toEqual({});
    await client.done(prompt_id);
    const events = client.forPrompt(prompt_id).map((m) => (m.type === 'executing' ? `executing:${m.data.node}` : m.type));
    expect(events).toEqual(['execution_start', 'execution_cached', 'executing:1', 'executing:2', 'executed', 'executing:null', 'execution_success']);

    const executed = client.forPrompt(prompt_id).find((m) => m.type === 'executed')!;
    expect(executed.data.node).toBe('2');
    const [file] = (executed.data.output as { files: { filename: string; subfolder: string; type: string }[] }).files;
    expect(file).toMatchObject({ subfolder: 'api', type: 'output' });
    const view = await server.get(`/view?${new URLSearchParams({ filename: file.filename, subfolder: file.subfolder, type: file.type })}`);
    expect(view.status).toBe(200);
    expect(view.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await view.text()).toBe('hello from the api\n');

    const history = await (await server.get(`/history/${prompt_id}`)).json();
    const entry = history[prompt_id];
    expect(entry.prompt[0]).toBe(number);
    expect(entry.prompt[1]).toBe(prompt_id);
    expect(entry.prompt[2]).toEqual(textPrompt('hello from the api'));
    expect(entry.prompt[3]).toMatchObject({ client_id: 'flow' });
    // As ComfyUI: extra_data says when the prompt was queued; the status messages when it ran.
    const started = entry.status.messages.find(([type]: [string]) => type === 'execution_start')[1].timestamp;
    expect(entry.prompt[3].create_time).toBeGreaterThan(0);
    expect(entry.prompt[3].create_time).toBeLessThanOrEqual(started);
    expect(entry.prompt[4]).toEqual(['2']);
    expect(entry.outputs['2'].files[0]).toEqual(file);
    expect(entry.status.status_str).toBe('success');
    expect(entry.status.completed).toBe(true);
    expect(entry.status.messages.map((m: [string]) => m[0])).toEqual(['execution_start', 'execution_cached', 'execution_success']);

    const queueState = await (await server.get('/queue')).json();
    expect(queueState).toEqual({ queue_running: [], queue_pending: [] });
    expect(await (await server.get('/prompt')).json()).toEqual({ exec_info: { queue_remaining: 0 } });
  });

  it('reports execution_cached for an unchanged second run and still sends the cached output', async () => {
    const first = await queue(slowPrompt(2, 10));
    await client.done(first.prompt_id);
    const second = await queue(slowPrompt(2, 10));
    await client.done(second.prompt_id);
    const cached = client.forPrompt(second.prompt_id).find((m) => m.type === 'execution_cached')!;
    expect((cached.data.nodes as string[]).sort()).toEqual(['1', '2', '3']);
    const events = client.forPrompt(second.prompt_id).map((m) => m.type);
    expect(events).not.toContain('progress');
    expect(events).toContain('executed');
    expect(events.at(-1)).toBe('execution_success');
  });

  it('sends progress with the step, for the node that runs', async () => {
    const { prompt_id } = await queue(slowPrompt(3, 20));
    await client.done(prompt_id);
    const progress = client.forPrompt(prompt_id).filter((m) => m.type === 'progress');
    expect(progress.map((m) => m.data)).toEqual([1, 2, 3].map((step) => ({ value: step, max: 3, prompt_id, node: '2', step, steps: 3 })));
  });

  it('numbers each event for the client, one apart', () => {
    const seqs = client.messages.map((m) => m.seq!);
    expect(seqs.length).toBeGreaterThan(10);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0] + i));
  });

  it('reports a failing node as execution_error and keeps the error in the history', async () => {
    const prompt = {
      '1': { class_type: 'TestSource', inputs: { start: 0, length: 2 } },
      '2': { class_type: 'TestFail', inputs: { signal: ['1', 0] } },
      '3': { class_type: 'TestSum', inputs: { signal: ['2', 0] } },
    };
    const { prompt_id } = await queue(prompt);
    const error = await client.done(prompt_id);
    expect(error.type).toBe('execution_error');
    expect(error.data).toMatchObject({ node_id: '2', node_type: 'TestFail', exception_message: 'this node always fails' });
    await client.waitFor((m) => m.type === 'executing' && m.data.prompt_id === prompt_id && m.data.node === null);
    const entry = (await (await server.get(`/history/${prompt_id}`)).json())[prompt_id];
    expect(entry.status).toMatchObject({ status_str: 'error', completed: false });
    expect(entry.status.messages.at(-1)[0]).toBe('execution_error');
  });

  it('answers the same under /api/', async () => {
    const res = await fetchJson(`${server.url}/api/prompt`, { method: 'POST', body: JSON.stringify({ prompt: textPrompt('via /api'), client_id: 'flow' }) });
    const { prompt_id } = await res.json();
    expect(res.status).toBe(200);
    await client.done(prompt_id);
    expect(Object.keys(await (await server.get(`/api/history/${prompt_id}`)).json())).toEqual([prompt_id]);
    expect((await server.get('/api/object_info/SaveText')).status).toBe(200);
  });
});

describe('invalid prompts', () => {
  it('returns 400 with ComfyUI error types and node_errors', async () => {
    const missingInput = await server.post('/prompt', {
      prompt: { '1': { class_type: 'Text', inputs: {} }, '2': { class_type: 'SaveText', inputs: { value: ['1', 0], filename_prefix: 'x' } } },
    });
    expect(missingInput.status).toBe(400);
    const body = await missingInput.json();
    expect(body.error).toMatchObject({ type: 'prompt_outputs_failed_validation', message: expect.any(String), details: expect.any(String) });
    expect(body.node_errors['1']).toMatchObject({ class_type: 'Text', dependent_outputs: ['2'] });
    expect(body.node_errors['1'].errors[0]).toMatchObject({ type: 'required_input_missing', extra_info: { input_name: 'text' } });

    const unknownType = await server.post('/prompt', { prompt: { '1': { class_type: 'NoSuchNode', inputs: {} } } });
    expect(unknownType.status).toBe(400);
    expect((await unknownType.json()).error.type).toBe('missing_node_type');
  });

  it('names a value out of range on its node and input', async () => {
    const res = await server.post('/prompt', {
      prompt: {
        '1': { class_type: 'TestSource', inputs: { start: 5000, length: 2 } },
        '2': { class_type: 'TestSum', inputs: { signal: ['1', 0] } },
      },
    });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error.type).toBe('prompt_outputs_failed_validation');
    expect(body.node_errors['1'].errors[0]).toMatchObject({ type: 'value_bigger_than_max', extra_info: { input_name: 'start' } });
    expect(body.node_errors['1'].class_type).toBe('TestSource');
  });

  it('says when there is no prompt, and queues nothing', async () => {
    const res = await server.post('/prompt', { client_id: 'flow' });
    expect(res.status).toBe(400);
    expect((await res.json()).error.type).toBe('no_prompt');
    expect((await (await server.get('/queue')).json()).queue_pending).toEqual([]);
  });
});

describe('the socket', () => {
  const workflow = {
    last_node_id: 2,
    last_link_id: 1,
    version: 0.4,
    nodes: [
      { id: 1, type: 'Text', mode: 0, inputs: [], outputs: [{ name: 'STRING', type: 'STRING', links: [1] }], widgets_values: { text: 'sent as a workflow' } },
      { id: 2, type: 'SaveText', mode: 0, inputs: [{ name: 'value', type: '*', link: 1 }], outputs: [], widgets_values: { filename_prefix: 'ws/wf' } },
    ],
    links: [[1, 1, 0, 2, 0, 'STRING']],
  };

  it('runs a workflow sent with queue_prompt, answering like POST /prompt, and embeds the workflow', async () => {
    const from = client.messages.length;
    client.send({ type: 'queue_prompt', data: { workflow, request_id: 'r1' } });
    const answer = await client.waitFor((m) => m.type === 'queue_prompt_result', from);
    expect(answer.data).toMatchObject({ request_id: 'r1', status: 200, node_errors: {} });
    const promptId = answer.data.prompt_id as string;
    expect((await client.done(promptId)).type).toBe('execution_success');
    const executed = client.forPrompt(promptId).find((m) => m.type === 'executed')!;
    expect((executed.data.output as { text: string[] }).text).toEqual(['sent as a workflow']);
    const entry = (await (await server.get(`/history/${promptId}`)).json())[promptId];
    expect(entry.prompt[3]).toMatchObject({ client_id: 'flow', extra_pnginfo: { workflow } });
  });

  it('answers an invalid prompt with status 400 and node_errors, and a broken message with an error', async () => {
    const from = client.messages.length;
    client.send({ type: 'queue_prompt', data: { prompt: { '1': { class_type: 'TestSum', inputs: {} } }, request_id: 'r2' } });
    const answer = await client.waitFor((m) => m.type === 'queue_prompt_result' && m.data.request_id === 'r2', from);
    expect(answer.data.status).toBe(400);
    expect(answer.data.node_errors).toHaveProperty('1');
    client.ws.send('{not json');
    expect((await client.waitFor((m) => m.type === 'error', from)).data.message).toMatch(/unreadable message/);
    client.send({ type: 'dance', data: {} });
    await client.waitFor((m) => m.type === 'error' && /unknown message type "dance"/.test(String(m.data.message)), from);
    expect((await server.get('/queue')).status).toBe(200);
  });
});
