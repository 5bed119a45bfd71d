// Long clips stream: 2,000+ frames go through decode → VAE → Sampler → VAE → encode chunk by chunk and
// all come out; a re-run that changes only Encode takes the Sampler's kept chunks (no re-sampling); an
// unchanged re-run runs nothing; a mask count that cannot fit is refused before any node runs; an
// interrupted clip leaves no output file, and history lists none.
import { mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_NODES } from '../../nodes/index.ts';
import { NodeRegistry } from '../../server/engine/node-registry.ts';
import { resolveSettings } from '../../server/config.ts';
import { Engine } from '../../server/engine/engine.ts';
import type { Prompt } from '../../common/prompt.ts';
import type { EngineEvent } from '../../common/events.ts';
import { prepareFirstRun } from '../../server/first-run.ts';
import type { OutputFileRef } from '../../server/media/output-files.ts';
import { decodeVideo, KEEP_ALL } from '../../server/media/video-decode.ts';
import { DEMO_MODEL_NAME } from '../../server/demo/demo-model.ts';
import { ProgressPrinter } from '../../server/cli/progress.ts';
import { lavfiClip } from '../media/clips.ts';
import { EventClient, startTestServer, type TestServer } from '../helpers/api-server.ts';

const LONG = 2_048;
const registry = new NodeRegistry(ALL_NODES);
const settings = resolveSettings({}, {}, mkdtempSync(path.join(tmpdir(), 'limelight-long-')));

beforeAll(async () => {
  for (const folder of Object.values(settings.folders)) mkdirSync(folder, { recursive: true });
  await prepareFirstRun(settings, () => {}, { client: false });
  await lavfiClip(settings.folders.input, 'long.mp4', 'testsrc=size=64x64:rate=24', ['-frames:v', String(LONG), '-pix_fmt', 'yuv420p']);
}, 300_000);

const VIDEO = { frame_load_cap: 0, skip_first_frames: 0, select_every_nth: 1, force_rate: 0, width: 0, height: 0 };

function samplePrompt(crf: number): Prompt {
  return {
    1: { class_type: 'LoadModel', inputs: { model: DEMO_MODEL_NAME, device: 'cpu' } },
    2: { class_type: 'TextEncode', inputs: { clip: ['1', 1], text: 'red brick wall' } },
    3: { class_type: 'LoadVideo', inputs: { video: 'long.mp4', ...VIDEO } },
    4: { class_type: 'VAEEncode', inputs: { vae: ['1', 2], image: ['3', 0] } },
    5: {
      class_type: 'Sampler',
      inputs: { model: ['1', 0], positive: ['2', 0], latent: ['4', 0], seed: 7, steps: 1, cfg: 1, sampler: 'euler', temperature: 0, denoise: 1, batch_size: 16, noise_per_frame: false },
    },
    6: { class_type: 'VAEDecode', inputs: { vae: ['1', 2], samples: ['5', 0] } },
    7: { class_type: 'Encode', inputs: { images: ['6', 0], fps: 0, format: 'mp4-h264', crf, filename_prefix: 'long/clip' } },
  };
}

async function run(engine: Engine, prompt: Prompt) {
  const events: EngineEvent[] = [];
  const result = await engine.run(prompt, { promptId: 'long', onEvent: (event) => events.push(event) });
  expect(result.validation?.node_errors ?? {}).toEqual({});
  expect(result.error?.exception_message ?? result.status).toBe('success');
  const ran = new Set(events.flatMap((event) => (event.type === 'executing' && event.data.node ? [event.data.node] : [])));
  return { result, events, ran };
}

describe('a 2,048-frame clip through LoadVideo → VAEEncode → Sampler (demo model, 1 step) → VAEDecode → Encode', () => {
  const engine = new Engine({
    registry,
    folders: settings.folders,
    memoryBudgetBytes: 256 * 1024 ** 2,
    disk: { dir: path.join(settings.cacheDir, 'nodes'), capBytes: 1024 ** 3 },
  });

  it('streams in chunks and encodes every frame; only Encode runs again when its crf changes; an unchanged re-run runs nothing', async () => {
    const first = await run(engine, samplePrompt(23));
    const chunks = first.events.flatMap((event) => (event.type === 'progress' && event.data.label === 'frames' ? [event.data.clip!] : []));
    expect(chunks.length).toBeGreaterThan(2); // a small first chunk, then chunks sized from the budget (at most 1,024 frames)
    expect(chunks.at(-1)).toMatchObject({ done: LONG, total: LONG });
    const [video] = Object.values(first.result.outputs).flatMap((ui) => (ui.videos ?? []) as OutputFileRef[]);
    const decoded = await decodeVideo(path.join(settings.folders.output, video!.subfolder, video!.filename), KEEP_ALL);
    expect(decoded.frames.length).toBe(LONG);

    // The CLI prints the clip's frames done / total and the time left, a line per chunk.
    const lines: string[] = [];
    const printer = new ProgressPrinter(new Map(), 7, { write: (text: string) => lines.push(text) });
    for (const event of first.events) printer.handle(event);
    expect(lines.filter((line) => /^clip .* \d+\/2048 frames, ETA \d/.test(line)).length).toBe(chunks.length - 1);
    expect(lines.some((line) => /2048\/2048 frames, done/.test(line))).toBe(true);

    const recrf = await run(engine, samplePrompt(30));
    expect(recrf.ran.has('7')).toBe(true);
    expect(recrf.ran.has('5')).toBe(false); // the Sampler's chunks were kept
    expect(recrf.ran.has('4')).toBe(false); // and what only the Sampler needed did not run either

    const again = await run(engine, samplePrompt(30));
    expect([...again.ran]).toEqual([]);
    expect(again.result.executed).toEqual([]);
  }, 600_000);

  it('refuses a keep_mask count that cannot fit the clip as node_errors, before any node runs', async () => {
    const prompt = samplePrompt(23);
    prompt[8] = { class_type: 'LoadImageSequence', inputs: { folder: 'limelight-sample-masks' } };
    prompt[9] = { class_type: 'MaskFromImage', inputs: { images: ['8', 0], channel: 'luminance', threshold: 0, invert: false, feather: 0 } };
    prompt[5]!.inputs.keep_mask = ['9', 0];
    const events: EngineEvent[] = [];
    const result = await engine.run(prompt, { promptId: 'refused', onEvent: (event) => events.push(event) });
    expect(result.status).toBe('invalid');
    expect(result.validation?.node_errors['5']?.errors[0]?.details).toMatch(/keep_mask sequence has 64 frames but the clip has 2048/);
    expect(events).toEqual([]);
  });
});

describe('interrupting a streamed clip', () => {
  let server: TestServer;
  let client: EventClient;

  beforeAll(async () => {
    server = await startTestServer();
    client = await EventClient.connect(server.url, 'clientId=long');
    await lavfiClip(server.settings.folders.input, 'long.mp4', 'testsrc=size=256x256:rate=24', ['-frames:v', '3000', '-pix_fmt', 'yuv420p']);
  }, 120_000);

  afterAll(async () => {
    await client.close();
    await server.close();
  });

  it('after the first chunks leaves no output file, and history lists none', async () => {
    const prompt = {
      1: { class_type: 'LoadVideo', inputs: { video: 'long.mp4', ...VIDEO } },
      2: { class_type: 'Encode', inputs: { images: ['1', 0], fps: 0, format: 'mp4-h264', crf: 23, filename_prefix: 'cut/clip' } },
    };
    const queued = await server.post('/prompt', { prompt, client_id: 'long' });
    const { prompt_id: id } = (await queued.json()) as { prompt_id: string };
    await client.waitFor((m) => m.type === 'progress' && m.data.prompt_id === id && m.data.label === 'frames');
    await server.post('/interrupt', { prompt_id: id });
    expect((await client.done(id)).type).toBe('execution_interrupted');
    const entry = (await (await server.get(`/history/${id}`)).json())[id];
    expect(entry.outputs).toEqual({});
    const files = readdirSync(server.settings.folders.output, { withFileTypes: true, recursive: true }).filter((entry) => entry.isFile());
    expect(files.map((entry) => entry.name)).toEqual([]); // no video, no hidden partial file, no reserved name
  }, 120_000);
});
