// Inside the runner thread: owns the Engine (its memory cache and the model sessions persist between
// runs), executes one prompt at a time from plain-data messages and posts back events and results.
import { parentPort, workerData } from 'node:worker_threads';
import type { Engine } from '../engine/engine.ts';
import { createEngine } from '../create-engine.ts';
import { sessions } from '../runtime/sessions.ts';
import { loadNodeSet } from './node-set.ts';
import { protocolProblem, transferablesOf, versioned, type RunJob, type RunnerConfig, type RunnerReply, type RunnerRequest, type RunnerStats } from './protocol.ts';

type Unversioned<T> = T extends unknown ? Omit<T, 'protocol'> : never;

const port = parentPort!;
const config = workerData as RunnerConfig;

function post(message: Unversioned<RunnerReply>): void {
  const reply = versioned(message) as RunnerReply;
  try {
    port.postMessage(reply, transferablesOf(reply));
  } catch {
    // A buffer onnxruntime or sharp allocated outside V8 cannot be moved: copied instead.
    port.postMessage(reply);
  }
}

function stats(engine: Engine): RunnerStats {
  return {
    provider: sessions.list().findLast((s) => s.provider !== 'loading')?.provider ?? null,
    sessions: sessions.list(),
    memoryCache: engine.memory.stats(),
  };
}

const problem = protocolProblem(config);
if (problem) throw new Error(problem);
const flag = new Int32Array(config.interruptFlag);
const registry = await loadNodeSet(config.nodes);
const engine = createEngine(config.settings, registry, {
  info: (message) => post({ type: 'log', level: 'info', message }),
  warn: (message) => post({ type: 'log', level: 'warn', message }),
});
let running: { promptId: string; controller: AbortController } | null = null;

async function run(job: RunJob): Promise<void> {
  const controller = new AbortController();
  running = { promptId: job.promptId, controller };
  try {
    const result = await engine.run(job.prompt, {
      promptId: job.promptId,
      signal: controller.signal,
      interrupted: () => Atomics.load(flag, 0) === 1,
      onEvent: (event) => post({ type: 'event', promptId: job.promptId, event }),
      extraData: job.extraData,
      outputs: job.outputs,
      previews: job.previews,
    });
    post({ type: 'result', promptId: job.promptId, result, stats: stats(engine) });
  } catch (error) {
    post({ type: 'run_failed', promptId: job.promptId, message: (error as Error).message });
  } finally {
    running = null;
  }
}

port.on('message', (request: RunnerRequest) => {
  const problem = protocolProblem(request);
  if (problem) return post({ type: 'refused', message: problem });
  switch (request.type) {
    case 'run':
      void run(request.job);
      return;
    case 'interrupt':
      if (running?.promptId === request.promptId) running.controller.abort();
      return;
    case 'stats':
      return post({ type: 'stats', id: request.id, stats: stats(engine) });
    case 'free':
      if (request.memory) engine.memory.clear();
      void (request.models ? sessions.clear() : Promise.resolve()).then(() => post({ type: 'stats', id: request.id, stats: stats(engine) }));
  }
});

post({ type: 'ready', stats: stats(engine) });
