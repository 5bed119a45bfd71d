// Stopping and starting: a process killed mid-prompt and started again (the queue and history stay
// consistent; the prompt that was cut off is failed, never reported as done), a graceful stop, and
// `limelight serve` from the command line.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { EventClient, fetchJson, holdPrompt, startTestServer, textPrompt } from '../helpers/api-server.ts';

const SCRIPT = fileURLToPath(new URL('./fixtures/server-process.ts', import.meta.url));
const CLI = fileURLToPath(new URL('../../bin/limelight.js', import.meta.url));
const root = mkdtempSync(path.join(tmpdir(), 'limelight-restart-'));
const children: ChildProcess[] = [];

interface Child {
  process: ChildProcess;
  url: string;
  stderr: () => string;
}

function startChild(args = ['--import', 'tsx', SCRIPT], cwd = process.cwd()): Promise<Child> {
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, LIMELIGHT_TEST_ROOT: root }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /(?:LISTENING|serving) (http:\S+)/.exec(stdout);
      if (match) resolve({ process: child, url: match[1], stderr: () => stderr });
    });
    child.once('exit', (code) => reject(new Error(`server process exited (${code}) before listening:\n${stderr}`)));
  });
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

async function post(url: string, prompt: Record<string, unknown>): Promise<{ prompt_id: string; number: number }> {
  const res = await fetchJson(`${url}/prompt`, { method: 'POST', body: JSON.stringify({ prompt, client_id: 'restart' }) });
  expect(res.status).toBe(200);
  return res.json();
}

describe('restart', () => {
  it('fails the prompt that was running when the process died and runs the rest after a restart', async () => {
    const first = await startChild();
    const watcher = await EventClient.connect(first.url, 'clientId=restart');
    const cutOff = await post(first.url, holdPrompt('cut off'));
    const second = await post(first.url, textPrompt('second'));
    const third = await post(first.url, textPrompt('third'));
    await watcher.waitFor((m) => m.type === 'progress' && m.data.prompt_id === cutOff.prompt_id);
    const before = await (await fetchJson(`${first.url}/queue`)).json();
    expect(before.queue_running.map((item: unknown[]) => item[1])).toEqual([cutOff.prompt_id]);
    expect(before.queue_pending.map((item: unknown[]) => item[1])).toEqual([second.prompt_id, third.prompt_id]);
    await killed(first.process);
    await watcher.close();

    const again = await startChild();
    // since=0: everything sent to this client id since the new process started, even before we connected.
    const back = await EventClient.connect(again.url, 'clientId=restart&since=0');
    expect((await back.done(second.prompt_id)).type).toBe('execution_success');
    expect((await back.done(third.prompt_id)).type).toBe('execution_success');

    const history = await (await fetchJson(`${again.url}/history`)).json();
    expect(Object.keys(history)).toEqual([cutOff.prompt_id, second.prompt_id, third.prompt_id]);
    const failed = history[cutOff.prompt_id];
    expect(failed.status).toMatchObject({ status_str: 'error', completed: false });
    expect(failed.status.messages).toEqual([['execution_error', expect.objectContaining({ exception_type: 'ServerRestart', prompt_id: cutOff.prompt_id })]]);
    // The restart is the server's own doing: no stack of its code (and so no server path) in the history.
    expect(failed.status.messages[0][1].traceback).toEqual([]);
    expect(failed.outputs).toEqual({});
    expect(failed.prompt.slice(0, 3)).toEqual([cutOff.number, cutOff.prompt_id, holdPrompt('cut off')]);
    expect(history[third.prompt_id].outputs['2'].text).toEqual(['third']);
    expect(await (await fetchJson(`${again.url}/queue`)).json()).toEqual({ queue_running: [], queue_pending: [] });
    expect(again.stderr()).toMatch(/1 prompt\(s\) were running when the server stopped/);

    const later = await post(again.url, textPrompt('numbers keep counting'));
    expect(later.number).toBeGreaterThan(third.number);
    await back.done(later.prompt_id);
    await back.close();
    await killed(again.process);
  });
});

describe('a graceful stop', () => {
  it('interrupts the running prompt and keeps the queued ones for the next start', async () => {
    const server = await startTestServer();
    const watcher = await EventClient.connect(server.url, 'clientId=restart');
    const held = await post(server.url, holdPrompt('stopped'));
    const queued = await post(server.url, textPrompt('kept'));
    await watcher.waitFor((m) => m.type === 'progress' && m.data.prompt_id === held.prompt_id);
    await watcher.close();
    await server.close();

    const again = await startTestServer({ settings: server.settings });
    const back = await EventClient.connect(again.url, 'clientId=restart&since=0');
    expect((await back.done(queued.prompt_id)).type).toBe('execution_success');
    const history = await (await again.get('/history')).json();
    expect(Object.keys(history)).toEqual([held.prompt_id, queued.prompt_id]);
    expect(history[held.prompt_id].status.messages.at(-1)[0]).toBe('execution_interrupted');
    await back.close();
    await again.close();
  });
});

describe('limelight serve', () => {
  it('serves from the command line and stops cleanly on SIGTERM', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'limelight-serve-'));
    const cli = await startChild([CLI, 'serve', '--port', '0'], cwd);
    expect(Object.keys(await (await fetchJson(`${cli.url}/object_info`)).json())).toContain('SaveText');
    const { prompt_id } = await post(cli.url, textPrompt('from the cli server'));
    const watcher = await EventClient.connect(cli.url, 'clientId=restart&since=0');
    expect((await watcher.done(prompt_id)).type).toBe('execution_success');
    await watcher.close();
    const exited = new Promise<number | null>((resolve) => cli.process.once('exit', (code) => resolve(code)));
    cli.process.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
