// The scale-out queue on this machine: a 240-frame clip in 8-frame chunks of CPU-bound stand-in work
// (the frame-hash executor; the real per-frame graph runs there once chunked execution lands), run
//  - in this process without a queue (the embedded baseline),
//  - on 1 and on 2 `limelight worker` processes through Redis (one inference thread each),
// timing each from dispatch to the last result in order, the time from dispatch to the first result,
// and the coordinator's share of the CPU time the 2-worker run took (its own process ÷ all processes).
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { ChunkDispatcher, type DistributedRun } from '../server/scale/chunk-dispatcher.ts';
import frameHashes, { frameHashSpec } from '../test/helpers/frame-hash-executor.ts';
import { redisMissing, TestRedis } from '../test/helpers/redis-server.ts';
import { CLUSTER_MODEL, TestCluster } from '../test/helpers/scale-cluster.ts';
import { isMain, printTable, type BenchRow } from './report.ts';

const FRAMES = 240;
const CHUNK = 8;
const ROUNDS = 4000;

function chunks(seed: string): DistributedRun['chunks'] {
  return Array.from({ length: FRAMES / CHUNK }, (_, i) => {
    const range = { start: i * CHUNK, end: (i + 1) * CHUNK, frames: FRAMES };
    return { range, spec: frameHashSpec({ ...range, seed, msPerFrame: 0, rounds: ROUNDS }) };
  });
}

/** User + system CPU seconds of a process, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function timed(dispatcher: ChunkDispatcher, prompt: string) {
  const started = performance.now();
  let first = 0;
  await dispatcher.run({ prompt, chunks: chunks(prompt), models: [CLUSTER_MODEL], onResult: async () => void (first ||= performance.now() - started) });
  return { seconds: (performance.now() - started) / 1000, firstMs: first };
}

export async function run(): Promise<BenchRow[]> {
  if (redisMissing) {
    process.stderr.write(`bench/scale.ts skipped: ${redisMissing}\n`);
    return [];
  }
  const redis = await TestRedis.start();
  const cluster = await TestCluster.start(redis.url);
  const dispatcher = new ChunkDispatcher(redis.url, cluster.exchange);
  try {
    await dispatcher.ready();
    const embeddedStart = performance.now();
    for (const chunk of chunks('embedded')) await frameHashes(chunk.spec, { interrupted: () => false, inputFile: async () => '' });
    const embedded = (performance.now() - embeddedStart) / 1000;

    await cluster.startWorker('w1');
    await timed(dispatcher, 'warm-up');
    const one = await timed(dispatcher, 'one');
    await cluster.startWorker('w2');
    const pids = [process.pid, ...[...cluster.workers.values()].map((c) => c.pid!)];
    const before = pids.map(cpuSeconds);
    const two = await timed(dispatcher, 'two');
    const used = pids.map((pid, i) => cpuSeconds(pid) - before[i]!);
    const total = used.reduce((a, b) => a + b, 0);
    return [
      { bench: 'scale', metric: `throughput, 2 workers ÷ 1 worker (${FRAMES} frames, stand-in CPU work)`, value: one.seconds / two.seconds, unit: '×', target: '≥ 1.5' },
      { bench: 'scale', metric: '1 worker through Redis ÷ the same work in process (time)', value: one.seconds / embedded, unit: '×', target: '' },
      { bench: 'scale', metric: "coordinator's share of the 2-worker run's CPU time", value: (100 * used[0]!) / total, unit: '%', target: '' },
      { bench: 'scale', metric: 'dispatch → first chunk result (1 worker, one chunk ≈ ' + ((embedded * 1000 * CHUNK) / FRAMES).toFixed(0) + ' ms of work)', value: one.firstMs, unit: 'ms', target: '' },
    ];
  } finally {
    await cluster.close();
    await dispatcher.close();
    await redis.dispose();
  }
}

if (isMain(import.meta)) printTable(await run());
