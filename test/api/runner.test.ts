// The server while prompts run in the engine runner (a thread of its own): it answers between two UNet
// calls, interrupt lands within the call under way (even when the runner never yields), and a runner that
// dies fails its prompt clearly and is replaced for the next one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventClient, startTestServer, textPrompt, type Message, type TestServer } from '../helpers/api-server.ts';
import { prepareDemo, samplerPrompt } from '../helpers/sampler-prompt.ts';

let server: TestServer;
let client: EventClient;

beforeAll(async () => {
  server = await startTestServer();
  await prepareDemo(server.settings);
  client = await EventClient.connect(server.url, 'clientId=runner');
});

afterAll(async () => {
  await client.close();
  await server.close();
});

async function queue(prompt: Record<string, unknown>): Promise<string> {
  const body = await (await server.post('/prompt', { prompt, client_id: 'runner' })).json();
  expect(body.node_errors).toEqual({});
  return body.prompt_id;
}

const progressOf = (promptId: string, node: string) => (m: Message) => m.type === 'progress' && m.data.prompt_id === promptId && m.data.node === node;

describe('the engine runner', () => {
  it('answers GET /queue many times between two UNet calls, and an interrupt ends the Sampler after the call under way', async () => {
    const promptId = await queue(samplerPrompt({ frames: 4, steps: 200, seed: 1 }));
    const sampling = progressOf(promptId, '5');
    await client.waitFor(sampling);
    const countProgress = () => client.messages.filter(sampling).length;

    const seen = countProgress();
    let answered = 0;
    while (countProgress() === seen) {
      const queued = await (await server.get('/queue')).json();
      expect(queued.queue_running[0][1]).toBe(promptId);
      answered++;
    }
    // On the server’s own thread at most one request fits between two calls: the UNet blocks it.
    expect(answered).toBeGreaterThanOrEqual(3);

    const trigger = await client.waitFor(sampling, client.messages.length);
    const at = client.messages.indexOf(trigger);
    expect(await (await server.post('/interrupt', { prompt_id: promptId })).json()).toEqual({ interrupted: true });
    const end = await client.done(promptId);
    expect(end).toMatchObject({ type: 'execution_interrupted', data: { node_id: '5', node_type: 'Sampler' } });
    // The call under way when the interrupt came may still report; no call after it starts.
    expect(client.messages.slice(at + 1).filter(sampling).length).toBeLessThanOrEqual(1);
    expect((trigger.data.value as number) + 2).toBeLessThan(trigger.data.max as number);
  });

  it('interrupts a node that never yields its thread, at its next progress report', async () => {
    // 2,000 steps of 2 ms: 4 s if the interrupt were missed, well inside the test's time limit.
    const promptId = await queue({ '1': { class_type: 'TestSpin', inputs: { steps: 2_000, ms: 2 } } });
    const seen = await client.waitFor(progressOf(promptId, '1'));
    await server.post('/interrupt', {});
    const end = await client.done(promptId);
    expect(end).toMatchObject({ type: 'execution_interrupted', data: { node_id: '1', node_type: 'TestSpin' } });
    const last = client.forPrompt(promptId).filter(progressOf(promptId, '1')).at(-1)!;
    // Stopped at a progress report soon after the request (the reports seen here lag the thread a little).
    expect((last.data.value as number) - (seen.data.value as number)).toBeLessThan(250);
  });

  it('fails the running prompt with an execution_error naming the node when the runner dies, then runs the next prompt in a fresh one', async () => {
    const crashed = await queue({ '1': { class_type: 'TestCrash', inputs: { message: 'the runner fell over' } } });
    const after = await queue(textPrompt('after the crash', 'runner/after'));
    const end = await client.done(crashed);
    expect(end).toMatchObject({ type: 'execution_error', data: { node_id: '1', node_type: 'TestCrash', exception_type: 'InternalError' } });
    expect(end.data.exception_message).toMatch(/the engine runner crashed \(the runner fell over\); a fresh runner starts for the next prompt/);
    const history = await (await server.get(`/history/${crashed}`)).json();
    expect(history[crashed].status).toMatchObject({ status_str: 'error', completed: false });

    expect((await client.done(after)).type).toBe('execution_success');
    const outputs = (await (await server.get(`/history/${after}`)).json())[after].outputs;
    expect(outputs['2'].text).toEqual(['after the crash']);
  });
});
