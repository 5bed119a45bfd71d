// Server responsiveness, measured in one process with the server and its clients:
//  - idle: time from sending POST /prompt to receiving `execution_start` on the socket;
//  - busy: event-loop lag (p99) and GET /queue round trips while a prompt runs, for a synthetic node
//    doing 5 ms of JavaScript per frame (also run bare on an engine in this thread, alternately: the ratio
//    is what serving adds), and for the real LoadVideo → Encode pipeline on the 64-frame sample clip;
//  - Sampler: GET /queue round trips while the demo UNet samples 512² frames, and the time from sending
//    POST /interrupt to receiving `execution_interrupted`, beside one UNet call (the median time between
//    two of the Sampler's progress events).
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Engine } from '../server/engine/engine.ts';
import { loadNodeSet } from '../server/runner/node-set.ts';
import { startServer, type LimelightServer } from '../server/api/server.ts';
import { SAMPLE } from '../server/demo/sample-media.ts';
import { EventClient, testSettings, type Message } from '../test/helpers/api-server.ts';
import { prepareDemo, samplerPrompt } from '../test/helpers/sampler-prompt.ts';
import { BENCH_NODE_SET, FRAME_WORK_MS } from './support/bench-nodes.ts';
import { isMain, printTable, type BenchRow } from './report.ts';

const IDLE_ROUNDS = 40;
const FRAMES = 300;
const INTERRUPT_ROUNDS = 3;

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

/**
 * Rounds of: queue a long 512² Sampler prompt, poll GET /queue through a few UNet calls, then interrupt
 * and time until `execution_interrupted` arrives.
 */
async function whileSampling(server: LimelightServer, client: EventClient): Promise<BenchRow[]> {
  const roundTrips: number[] = [];
  const callTimes: number[] = [];
  const interruptLatencies: number[] = [];
  for (let round = 1; round <= INTERRUPT_ROUNDS; round++) {
    const promptId = await queue(server, samplerPrompt({ frames: 4, steps: 200, seed: round }));
    const sampling = (m: Message) => m.type === 'progress' && m.data.prompt_id === promptId && m.data.node === '5';
    const arrivals: number[] = [];
    const from = client.messages.length;
    await client.waitFor(sampling, from);
    // Arrival times of the Sampler's progress events: their spacing is one UNet call.
    for (let count = client.messages.slice(from).filter(sampling).length; arrivals.length < 8; ) {
      const start = performance.now();
      await fetch(`${server.url}/queue`).then((r) => r.arrayBuffer());
      roundTrips.push(performance.now() - start);
      const now = client.messages.slice(from).filter(sampling).length;
      if (now > count) arrivals.push(performance.now());
      count = now;
    }
    for (let i = 1; i < arrivals.length; i++) callTimes.push(arrivals[i] - arrivals[i - 1]);
    const sent = performance.now();
    await fetch(`${server.url}/interrupt`, { method: 'POST', body: '{}' });
    const end = await client.done(promptId);
    if (end.type !== 'execution_interrupted') throw new Error(`the Sampler prompt ended with ${end.type}, not interrupted`);
    interruptLatencies.push(performance.now() - sent);
  }
  const call = percentile(callTimes, 50);
  const interrupt = percentile(interruptLatencies, 50);
  const slowest = Math.max(...interruptLatencies);
  const label = `Sampler (demo UNet, 4 frames 512², CFG)`;
  return [
    { bench: 'server', metric: `${label}: GET /queue round trip median (${roundTrips.length} requests)`, value: percentile(roundTrips, 50), unit: 'ms', target: '' },
    { bench: 'server', metric: `${label}: GET /queue round trip p99`, value: percentile(roundTrips, 99), unit: 'ms', target: '≤ 50' },
    { bench: 'server', metric: `${label}: one UNet call (median between progress events)`, value: call, unit: 'ms', target: '' },
    { bench: 'server', metric: `${label}: POST /interrupt → execution_interrupted, median of ${INTERRUPT_ROUNDS}`, value: interrupt, unit: 'ms', target: '' },
    { bench: 'server', metric: `${label}: slowest interrupt − one UNet call`, value: slowest - call, unit: 'ms', target: '≤ 100' },
  ];
}

export async function run(): Promise<BenchRow[]> {
  const settings = testSettings();
  const server = await startServer({ nodes: BENCH_NODE_SET, settings, port: 0 });
  const bareEngine = new Engine({ registry: await loadNodeSet(BENCH_NODE_SET), folders: settings.folders, memoryBudgetBytes: settings.memoryCacheBytes });
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
      bare.push((await lagDuring(() => bareEngine.run(prompt(2 * round), { promptId: `bare-${round}` }))).lagP99);
      const through = await whileServing(server, client, prompt(2 * round + 1));
      served.push(through.lagP99);
      roundTrips.push(through.queueP99);
    }
    rows.push({ bench: 'server', metric: `busy (${FRAME_WORK_MS} ms JS per frame): event-loop lag p99, served`, value: percentile(served, 50), unit: 'ms', target: '' });
    rows.push({ bench: 'server', metric: `busy (${FRAME_WORK_MS} ms JS per frame): lag p99 served ÷ same node bare`, value: percentile(served, 50) / percentile(bare, 50), unit: '×', target: '≤ 1.5' });
    rows.push({ bench: 'server', metric: `busy (${FRAME_WORK_MS} ms JS per frame): GET /queue round trip p99`, value: percentile(roundTrips, 50), unit: 'ms', target: '' });

    await prepareDemo(settings);
    const media = await whileServing(server, client, {
      '1': { class_type: 'LoadVideo', inputs: { video: SAMPLE.video, frame_load_cap: 0, skip_first_frames: 0, select_every_nth: 1, force_rate: 0, width: 0, height: 0 } },
      '2': { class_type: 'Encode', inputs: { images: ['1', 0], fps: 0, format: 'mp4-h264', crf: 19, filename_prefix: 'bench/sample' } },
    });
    rows.push({ bench: 'server', metric: `busy (LoadVideo → Encode, ${SAMPLE.frames} frames ${SAMPLE.size}²): event-loop lag p99`, value: media.lagP99, unit: 'ms', target: '< 50' });
    rows.push({ bench: 'server', metric: 'busy (LoadVideo → Encode): event-loop lag max', value: media.lagMax, unit: 'ms', target: '' });
    rows.push({ bench: 'server', metric: 'busy (LoadVideo → Encode): GET /queue round trip p99', value: media.queueP99, unit: 'ms', target: '' });
    rows.push(...(await whileSampling(server, client)));
  } finally {
    await client.close();
    await server.close();
  }
  return rows;
}

if (isMain(import.meta)) printTable(await run());
