// Server responsiveness, measured in one process with the server and its clients:
//  - idle: time from sending POST /prompt to receiving `execution_start` on the socket;
//  - busy: event-loop lag (p99) and GET /queue round trips while a prompt runs, for a synthetic node
//    doing 5 ms of JavaScript per frame (also run bare on the engine, alternately: the ratio is what
//    serving adds), and for the real LoadVideo → Encode pipeline on the 64-frame sample clip.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { defineNode, type NodeDefinition } from '../server/engine/node-contract.ts';
import { ALL_NODES } from '../nodes/index.ts';
import { NodeRegistry } from '../server/engine/node-registry.ts';
import { startServer, type LimelightServer } from '../server/api/server.ts';
import { ensureSampleMedia, SAMPLE } from '../server/demo/sample-media.ts';
import { EventClient, testSettings } from '../test/helpers/api-server.ts';
import { isMain, printTable, type BenchRow } from './report.ts';

const IDLE_ROUNDS = 40;
const FRAME_WORK_MS = 5;
const FRAMES = 300;

const BenchFrames = defineNode({
  type: 'BenchFrames',
  displayName: 'Bench Frames',
  category: 'bench',
  description: 'per frame: a fixed chunk of synchronous work, a progress report, then a yield (as frame nodes do)',
  version: 1,
  output: true,
  inputs: { required: { frames: { type: 'INT', default: 100, min: 1, max: 100_000 }, seed: { type: 'INT', default: 0, min: 0, max: 1e9 } } },
  outputs: [],
  execute: async ({ frames }, ctx) => {
    for (let frame = 1; frame <= frames; frame++) {
      const end = performance.now() + FRAME_WORK_MS;
      while (performance.now() < end);
      ctx.progress(frame, frames, { frame, frames });
      await new Promise((resolve) => setImmediate(resolve));
    }
    return { outputs: [], ui: { text: [`${frames} frames`] } };
  },
});

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))];

async function queue(server: LimelightServer, prompt: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${server.url}/prompt`, { method: 'POST', body: JSON.stringify({ prompt, client_id: 'bench' }) });
  const body = (await res.json()) as { prompt_id?: string; error?: { details: string } };
  if (!body.prompt_id) throw new Error(`prompt refused: ${body.error?.details}`);
  return body.prompt_id;
}

async function idleLatency(server: LimelightServer, client: EventClient): Promise<number[]> {
  const latencies: number[] = [];
  for (let round = 0; round < IDLE_ROUNDS + 5; round++) {
    const from = client.messages.length;
    const start = performance.now();
    const promptId = await queue(server, { '1': { class_type: 'Text', inputs: { text: `idle ${round}` } }, '2': { class_type: 'SaveText', inputs: { value: ['1', 0], filename_prefix: 'bench/idle' } } });
    await client.waitFor((m) => m.type === 'execution_start' && m.data.prompt_id === promptId, from);
    if (round >= 5) latencies.push(performance.now() - start);
    await client.done(promptId);
  }
  return latencies;
}

/** Measures event-loop lag (ms, p99 and max) while `work` runs. */
async function lagDuring<T>(work: () => Promise<T>): Promise<{ result: T; lagP99: number; lagMax: number }> {
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  const result = await work();
  lag.disable();
  return { result, lagP99: lag.percentile(99) / 1e6, lagMax: lag.max / 1e6 };
}

/** Lag and GET /queue round trips (ms, p99) while the server runs the prompt for the bench client. */
async function whileServing(server: LimelightServer, client: EventClient, prompt: Record<string, unknown>) {
  const roundTrips: number[] = [];
  const measured = await lagDuring(async () => {
    const promptId = await queue(server, prompt);
    let finished = false;
    const end = client.done(promptId).then((m) => {
      finished = true;
      return m;
    });
    while (!finished) {
      const start = performance.now();
      await fetch(`${server.url}/queue`).then((r) => r.arrayBuffer());
      roundTrips.push(performance.now() - start);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return end;
  });
  if (measured.result.type !== 'execution_success') throw new Error(`bench prompt ended with ${measured.result.type}: ${JSON.stringify(measured.result.data).slice(0, 300)}`);
  return { ...measured, queueP99: percentile(roundTrips, 99) };
}

export async function run(): Promise<BenchRow[]> {
  const settings = testSettings();
  const server = await startServer({ registry: new NodeRegistry([...ALL_NODES, BenchFrames as NodeDefinition]), settings, port: 0 });
  const client = await EventClient.connect(server.url, 'clientId=bench');
  const rows: BenchRow[] = [];
  try {
    const idle = await idleLatency(server, client);
    rows.push({ bench: 'server', metric: `idle: POST /prompt → execution_start, median of ${IDLE_ROUNDS}`, value: percentile(idle, 50), unit: 'ms', target: '< 20' });
    rows.push({ bench: 'server', metric: 'idle: POST /prompt → execution_start, p95', value: percentile(idle, 95), unit: 'ms', target: '' });

    // The same frame node run bare on the engine and through the server, alternately (this machine's load drifts).
    const bare: number[] = [];
    const served: number[] = [];
    const roundTrips: number[] = [];
    for (let round = 1; round <= 3; round++) {
      const prompt = (seed: number) => ({ '1': { class_type: 'BenchFrames', inputs: { frames: FRAMES, seed } } });
      bare.push((await lagDuring(() => server.engine.run(prompt(2 * round), { promptId: `bare-${round}` }))).lagP99);
      const through = await whileServing(server, client, prompt(2 * round + 1));
      served.push(through.lagP99);
      roundTrips.push(through.queueP99);
    }
    rows.push({ bench: 'server', metric: `busy (${FRAME_WORK_MS} ms JS per frame): event-loop lag p99, served`, value: percentile(served, 50), unit: 'ms', target: '' });
    rows.push({ bench: 'server', metric: `busy (${FRAME_WORK_MS} ms JS per frame): lag p99 served ÷ same node bare`, value: percentile(served, 50) / percentile(bare, 50), unit: '×', target: '≤ 1.5' });
    rows.push({ bench: 'server', metric: `busy (${FRAME_WORK_MS} ms JS per frame): GET /queue round trip p99`, value: percentile(roundTrips, 50), unit: 'ms', target: '' });

    await ensureSampleMedia(settings.folders.input);
    const media = await whileServing(server, client, {
      '1': { class_type: 'LoadVideo', inputs: { video: SAMPLE.video, frame_load_cap: 0, skip_first_frames: 0, select_every_nth: 1, force_rate: 0, width: 0, height: 0 } },
      '2': { class_type: 'Encode', inputs: { images: ['1', 0], fps: 0, format: 'mp4-h264', crf: 19, filename_prefix: 'bench/sample' } },
    });
    rows.push({ bench: 'server', metric: `busy (LoadVideo → Encode, ${SAMPLE.frames} frames ${SAMPLE.size}²): event-loop lag p99`, value: media.lagP99, unit: 'ms', target: '< 50' });
    rows.push({ bench: 'server', metric: 'busy (LoadVideo → Encode): event-loop lag max', value: media.lagMax, unit: 'ms', target: '' });
    rows.push({ bench: 'server', metric: 'busy (LoadVideo → Encode): GET /queue round trip p99', value: media.queueP99, unit: 'ms', target: '' });
  } finally {
    await client.close();
    await server.close();
  }
  return rows;
}

if (isMain(import.meta)) printTable(await run());
