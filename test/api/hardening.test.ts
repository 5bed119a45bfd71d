// Probes of a hostile client: outputs through symlinks leading out, deeply nested JSON, uploads onto
// folders, server paths in answers, and what /view shows inline.
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { numberedClip } from '../media/clips.ts';
import { EventClient, fetchJson, rawRequest, startTestServer, textPrompt, type TestServer } from '../helpers/api-server.ts';

let server: TestServer;
let client: EventClient;
let outside: string;

beforeAll(async () => {
  server = await startTestServer();
  client = await EventClient.connect(server.url, 'clientId=hardening');
  outside = mkdtempSync(path.join(tmpdir(), 'limelight-outside-'));
  symlinkSync(outside, path.join(server.settings.folders.output, 'linkdir'));
});

afterAll(async () => {
  await client.close();
  await server.close();
});

/** The answer carries no path of this machine: not the test's folders, not the temp dir, not the repo. */
function expectNoServerPath(text: string): void {
  expect(text).not.toContain(server.settings.root);
  expect(text).not.toContain(outside);
  expect(text).not.toContain(tmpdir());
  expect(text).not.toContain(process.cwd());
}

/** JSON text of a value in `depth` lists (written as text: JSON.stringify itself overflows at such depths). */
function nested(depth: number): string {
  return `${'['.repeat(depth)}"core"${']'.repeat(depth)}`;
}

/** Text(1) → SaveText(2) with the Text node's input replaced by `inputJson`, as JSON text. */
function deepPromptJson(inputJson: string): string {
  return JSON.stringify({ prompt: textPrompt('deep') }).replace('"text":"deep"', `"text":${inputJson}`);
}

const postText = (route: string, body: string) => fetchJson(server.url + route, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe('outputs stay inside the output folder', () => {
  it('refuses at validation a filename_prefix through a symlink leading out, naming the node and input', async () => {
    const res = await server.post('/prompt', { prompt: textPrompt('escape', 'linkdir/x') });
    const text = await res.text();
    expect(res.status).toBe(400);
    const body = JSON.parse(text);
    expect(body.node_errors['2'].class_type).toBe('SaveText');
    expect(body.node_errors['2'].errors[0]).toMatchObject({ type: 'custom_validation_failed', extra_info: { input_name: 'filename_prefix' } });
    expect(body.node_errors['2'].errors[0].details).toMatch(/^filename_prefix: .*"linkdir\/x".*link leading out of the output folder/);
    expectNoServerPath(text);
    expect(readdirSync(outside)).toEqual([]);
  });

  it('refuses at validation a prefix leaving the folder with ".." or an absolute path', async () => {
    for (const prefix of ['../x', 'a/../../x', '/etc/x']) {
      const res = await server.post('/prompt', { prompt: textPrompt('escape', prefix) });
      const body = await res.json();
      expect(res.status, prefix).toBe(400);
      expect(body.node_errors['2'].errors[0].extra_info.input_name, prefix).toBe('filename_prefix');
    }
  });

  it('refuses at run time a linked prefix through the symlink, writing nothing outside', async () => {
    const prompt = {
      '1': { class_type: 'Text', inputs: { text: 'escape' } },
      '3': { class_type: 'Text', inputs: { text: 'linkdir/sub/x' } },
      '2': { class_type: 'SaveText', inputs: { value: ['1', 0], filename_prefix: ['3', 0] } },
    };
    const res = await server.post('/prompt', { prompt, client_id: 'hardening' });
    expect(res.status).toBe(200);
    const { prompt_id } = await res.json();
    const done = await client.done(prompt_id);
    expect(done.type).toBe('execution_error');
    expect(done.data).toMatchObject({ node_id: '2', input_name: 'filename_prefix' });
    expect(String(done.data.exception_message)).toMatch(/link leading out of the output folder/);
    expect(readdirSync(outside)).toEqual([]);
    expectNoServerPath(await (await server.get(`/history/${prompt_id}`)).text());
  });

  it('still writes into real subfolders', async () => {
    const res = await server.post('/prompt', { prompt: textPrompt('inside', 'real/sub/x'), client_id: 'hardening' });
    const { prompt_id } = await res.json();
    expect((await client.done(prompt_id)).type).toBe('execution_success');
    expect(readdirSync(path.join(server.settings.folders.output, 'real', 'sub'))).toEqual(['x_00001.txt']);
  });
});

describe('deeply nested JSON', () => {
  it('answers 400 with a message for prompts nested 2,000 and 5,000 deep, and keeps /history readable', async () => {
    for (const depth of [2000, 5000]) {
      const res = await postText('/prompt', deepPromptJson(nested(depth)));
      expect(res.status, String(depth)).toBe(400);
      const body = (await res.json()) as { error: { type: string; details: string } };
      expect(body.error).toMatchObject({ type: 'too_deeply_nested' });
      expect(body.error.details).toMatch(/more than 64 levels deep/);
    }
    const history = await server.get('/history');
    expect(history.status).toBe(200);
    expect(JSON.stringify(await history.json())).not.toContain('core');
    expect(await (await server.get('/queue')).json()).toEqual({ queue_running: [], queue_pending: [] });
  });

  it('answers 400 on the other JSON routes too, and accepts ordinary nesting', async () => {
    const deep = await postText('/queue', `{"delete": ${nested(100)}}`);
    expect(deep.status).toBe(400);
    expect((await deep.json()).error.type).toBe('too_deeply_nested');
    expect((await server.post('/queue', { delete: [] })).status).toBe(200);
  });

  it('refuses a nested prompt sent with queue_prompt over the socket, answering with its request id', async () => {
    const from = client.messages.length;
    client.ws.send(`{"type":"queue_prompt","data":{"request_id":"deep-1",${deepPromptJson(nested(5000)).slice(1)}}`);
    const answer = await client.waitFor((m) => m.type === 'queue_prompt_result' && m.data.request_id === 'deep-1', from);
    expect(answer.data).toMatchObject({ status: 400, error: { type: 'too_deeply_nested' } });
  });
});

describe('uploads onto folders and server paths in answers', () => {
  const upload = async (fields: Record<string, string>) => {
    const form = new FormData();
    form.append('image', new Blob([Buffer.from('\x89PNG fake', 'latin1')], { type: 'image/png' }), 'taken.png');
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    const res = await fetch(`${server.url}/upload/image`, { method: 'POST', body: form });
    return { status: res.status, text: await res.text() };
  };

  it('refuses to overwrite a folder with 409 and a message naming no server path', async () => {
    mkdirSync(path.join(server.settings.folders.input, 'taken.png'));
    const res = await upload({ overwrite: 'true' });
    expect(res.status).toBe(409);
    expect(JSON.parse(res.text).error).toMatchObject({ type: 'name_is_folder' });
    expect(JSON.parse(res.text).error.details).toMatch(/"taken\.png" is a folder in the input folder/);
    expectNoServerPath(res.text);
    const renamed = await upload({});
    expect(JSON.parse(renamed.text)).toEqual({ name: 'taken (1).png', subfolder: '', type: 'input' });
  });

  it('refuses a subfolder running into a file with 409', async () => {
    writeFileSync(path.join(server.settings.folders.input, 'plain.txt'), 'x');
    const res = await upload({ subfolder: 'plain.txt/inner' });
    expect(res.status).toBe(409);
    expect(JSON.parse(res.text).error.type).toBe('subfolder_is_file');
    expectNoServerPath(res.text);
  });

  it('names input files by their folder, not the server path, in validation errors', async () => {
    const res = await server.post('/prompt', { prompt: { '1': { class_type: 'LoadVideo', inputs: { video: 'missing.mp4' } }, '2': { class_type: 'SaveText', inputs: { value: ['1', 0], filename_prefix: 'x' } } } });
    const text = await res.text();
    expect(res.status).toBe(400);
    expect(text).toMatch(/missing\.mp4/);
    expectNoServerPath(text);
  });

  it('reports a broken file without the server path: refused when queued, and live and in the history when it broke after queuing', async () => {
    const file = path.join(server.settings.folders.input, 'broken.mp4');
    writeFileSync(file, 'not a video');
    const loadInputs = { video: 'broken.mp4', frame_load_cap: 0, skip_first_frames: 0, select_every_nth: 1, force_rate: 0, width: 0, height: 0 };
    const prompt = { '1': { class_type: 'LoadVideo', inputs: loadInputs }, '2': { class_type: 'SaveText', inputs: { value: ['1', 0], filename_prefix: 'x' } } };
    const refused = await server.post('/prompt', { prompt, client_id: 'hardening' });
    expect(refused.status).toBe(400);
    const body = await refused.text();
    expect(body).toMatch(/broken\.mp4/);
    expectNoServerPath(body);

    // Whole when queued (behind a held prompt), broken before its turn: the run refuses it.
    await numberedClip(server.settings.folders.input, 'broken.mp4', 3);
    await server.post('/prompt', { prompt: { '1': { class_type: 'TestHold', inputs: { steps: 400 } } }, client_id: 'hardening' });
    const res = await server.post('/prompt', { prompt, client_id: 'hardening' });
    const { prompt_id, ...rest } = await res.json();
    expect(res.status, JSON.stringify(rest)).toBe(200);
    writeFileSync(file, 'not a video');
    const done = await client.done(prompt_id);
    expect(done.type).toBe('execution_error');
    expect(String(done.data.exception_message)).toMatch(/broken\.mp4/);
    expectNoServerPath(JSON.stringify(done.data));
    expectNoServerPath(await (await server.get(`/history/${prompt_id}`)).text());
    expectNoServerPath(await (await server.get('/system_stats')).text());
  });
});

describe('/view shows only media, text and JSON inline', () => {
  const files: [string, 'inline' | 'attachment', string][] = [
    ['a.png', 'inline', 'image/png'],
    ['a.webp', 'inline', 'image/webp'],
    ['a.mp4', 'inline', 'video/mp4'],
    ['a.wav', 'inline', 'audio/wav'],
    ['a.txt', 'inline', 'text/plain'],
    ['a.json', 'inline', 'application/json'],
    ['a.svg', 'attachment', 'application/octet-stream'],
    ['a.html', 'attachment', 'application/octet-stream'],
    ['a.xml', 'attachment', 'application/octet-stream'],
    ['a.xsl', 'attachment', 'application/octet-stream'],
    ['a.xht', 'attachment', 'application/octet-stream'],
    ['a.rdf', 'attachment', 'application/octet-stream'],
    ['a.pdf', 'attachment', 'application/octet-stream'],
    ['a.js', 'attachment', 'application/octet-stream'],
    ['a.css', 'attachment', 'application/octet-stream'],
    ['a.unknownext', 'attachment', 'application/octet-stream'],
  ];

  it('answers each type with its disposition and nosniff', async () => {
    for (const [name] of files) writeFileSync(path.join(server.settings.folders.output, name), '<x/>');
    for (const [name, disposition, type] of files) {
      const res = await rawRequest(server.url, { path: `/view?filename=${name}` });
      expect(res.status, name).toBe(200);
      expect(res.headers['content-disposition'], name).toMatch(new RegExp(`^${disposition};`));
      expect(res.headers['content-type'], name).toMatch(new RegExp(`^${type.replace('+', '\\+')}`));
      expect(res.headers['x-content-type-options'], name).toBe('nosniff');
    }
  });
});
