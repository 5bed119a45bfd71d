import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NodeRegistry } from '../../server/engine/node-registry.ts';
import { Engine } from '../../server/engine/engine.ts';
import type { EngineEvent } from '../../common/events.ts';
import type { Prompt } from '../../common/prompt.ts';
import { makeFolders } from '../helpers/context.ts';
import { testNodes } from '../helpers/test-nodes.ts';

function setup(options: { memoryBudgetBytes?: number; diskDir?: string } = {}) {
  const { definitions, runs } = testNodes();
  const engine = new Engine({
    registry: new NodeRegistry(definitions),
    folders: makeFolders(),
    memoryBudgetBytes: options.memoryBudgetBytes ?? 64 * 1024 * 1024,
    disk: options.diskDir ? { dir: options.diskDir, capBytes: 64 * 1024 * 1024 } : undefined,
  });
  return { engine, runs };
}

/** source → scale → sum, and source → sum2 */
function chainPrompt(factor = 2, start = 1): Prompt {
  return {
    '1': { class_type: 'TestSource', inputs: { start, length: 4 } },
    '2': { class_type: 'TestScale', inputs: { signal: ['1', 0], factor } },
    '3': { class_type: 'TestSum', inputs: { signal: ['2', 0] } },
    '4': { class_type: 'TestSum', inputs: { signal: ['1', 0], label: 'raw' } },
  };
}

async function run(engine: Engine, prompt: Prompt, signal?: AbortSignal, previews = true) {
  const events: EngineEvent[] = [];
  const result = await engine.run(prompt, { promptId: 'p', onEvent: (e) => events.push(e), signal, previews });
  return { result, events };
}

describe('engine', () => {
  it('runs output nodes and their ancestors and reports UI outputs', async () => {
    const { engine, runs } = setup();
    const { result } = await run(engine, chainPrompt());
    expect(result.status).toBe('success');
    expect(result.outputs['3']).toEqual({ text: ['sum=20'] }); // (1+2+3+4)*2
    expect(result.outputs['4']).toEqual({ text: ['raw=10'] });
    expect(runs.sort()).toEqual(['TestScale:2', 'TestSource:1', 'TestSum:3', 'TestSum:4']);
  });

  it('does not run nodes that no output depends on', async () => {
    const { engine, runs } = setup();
    const prompt = { ...chainPrompt(), '9': { class_type: 'TestScale', inputs: { signal: ['1', 0], factor: 5 } } };
    await run(engine, prompt);
    expect(runs).not.toContain('TestScale:9');
  });

  it('re-running an unchanged prompt executes zero nodes', async () => {
    const { engine, runs } = setup();
    await run(engine, chainPrompt());
    runs.length = 0;
    const { result, events } = await run(engine, chainPrompt());
    expect(runs).toEqual([]);
    expect(result.executed).toEqual([]);
    expect(result.cached.sort()).toEqual(['1', '2', '3', '4']);
    expect(result.outputs['3']).toEqual({ text: ['sum=20'] });
    const cachedEvent = events.find((e) => e.type === 'execution_cached');
    expect(cachedEvent?.data).toMatchObject({ nodes: expect.arrayContaining(['1', '2', '3', '4']) });
  });

  it('changing one widget re-executes exactly that node and its descendants', async () => {
    const { engine, runs } = setup();
    await run(engine, chainPrompt(2));
    runs.length = 0;
    const { result } = await run(engine, chainPrompt(3));
    expect(runs.sort()).toEqual(['TestScale:2', 'TestSum:3']);
    expect(result.outputs['3']).toEqual({ text: ['sum=30'] });
    runs.length = 0;
    await run(engine, chainPrompt(3, 2)); // the source changes: everything below it runs again
    expect(runs.sort()).toEqual(['TestScale:2', 'TestSource:1', 'TestSum:3', 'TestSum:4']);
  });

  it('a restart with the disk tier re-executes none of the persisted nodes', async () => {
    const diskDir = mkdtempSync(path.join(tmpdir(), 'limelight-disk-'));
    const first = setup({ diskDir });
    await run(first.engine, chainPrompt());
    const second = setup({ diskDir }); // a new engine: empty memory, same disk folder
    const { result } = await run(second.engine, chainPrompt());
    expect(second.runs).not.toContain('TestSource:1'); // persisted, read back from disk
    expect(second.runs.sort()).toEqual(['TestScale:2', 'TestSum:3', 'TestSum:4']);
    expect(result.outputs['3']).toEqual({ text: ['sum=20'] });
  });

  it('evicts least recently used entries under the memory budget', async () => {
    const { engine } = setup({ memoryBudgetBytes: 3000 });
    const big = (start: number): Prompt => ({
      '1': { class_type: 'TestSource', inputs: { start, length: 200 } }, // 800 bytes
      '2': { class_type: 'TestSum', inputs: { signal: ['1', 0] } },
    });
    for (let start = 0; start < 10; start++) await run(engine, big(start));
    const stats = engine.memory.stats();
    expect(stats.bytes).toBeLessThanOrEqual(3000);
    expect(stats.entries).toBeGreaterThan(0);
  });

  it('a node that writes into its input fails and cannot corrupt the cached value seen by another run', async () => {
    const { engine, runs } = setup();
    await run(engine, chainPrompt()); // caches the source ramp 1,2,3,4
    const buggy: Prompt = {
      '1': { class_type: 'TestSource', inputs: { start: 1, length: 4 } },
      '5': { class_type: 'TestScaleInPlace', inputs: { signal: ['1', 0], factor: 100 } },
      '6': { class_type: 'TestSum', inputs: { signal: ['5', 0], label: 'buggy' } },
    };
    const { result } = await run(engine, buggy);
    expect(result.status).toBe('error');
    expect(result.error).toMatchObject({ node_id: '5', input_name: 'signal' });
    expect(result.error?.exception_message).toMatch(/wrote into its input 'signal'.*copy/);
    runs.length = 0;
    const { result: again } = await run(engine, { '1': chainPrompt()['1'], '4': chainPrompt()['4'] });
    expect(again.outputs['4']).toEqual({ text: ['raw=10'] }); // not 1000: the damaged value was dropped
    expect(runs).toContain('TestSource:1');
  });

  it('freezes cached plain objects so writes throw', async () => {
    const { definitions } = testNodes();
    const Mutator = {
      ...definitions[1],
      type: 'TestReplace',
      execute: (inputs: Record<string, unknown>) => {
        (inputs.signal as { data: unknown }).data = new Float32Array(1);
        return { outputs: [inputs.signal] };
      },
    };
    const withMutator = new Engine({ registry: new NodeRegistry([...testNodes().definitions, Mutator]), folders: makeFolders(), memoryBudgetBytes: 1 << 20 });
    const { result } = await run(withMutator, {
      '1': { class_type: 'TestSource', inputs: { start: 0, length: 2 } },
      '2': { class_type: 'TestReplace', inputs: { signal: ['1', 0], factor: 1 } },
      '3': { class_type: 'TestSum', inputs: { signal: ['2', 0] } },
    });
    expect(result.status).toBe('error');
    expect(result.error?.exception_message).toMatch(/read only|read-only|Cannot assign/);
  });

  it('emits ComfyUI events in order with progress', async () => {
    const { engine } = setup();
    const { events } = await run(engine, {
      '1': { class_type: 'TestSource', inputs: { start: 0, length: 2 } },
      '2': { class_type: 'TestSlow', inputs: { signal: ['1', 0], steps: 3 } },
      '3': { class_type: 'TestSum', inputs: { signal: ['2', 0] } },
    });
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('execution_start');
    expect(types[1]).toBe('execution_cached');
    expect(types.at(-1)).toBe('execution_success');
    const executing = events.filter((e) => e.type === 'executing').map((e) => (e.data as { node: string | null }).node);
    expect(executing).toEqual(['1', '2', '3', null]);
    const progress = events.filter((e) => e.type === 'progress');
    expect(progress.map((e) => e.data)).toEqual([1, 2, 3].map((v) => expect.objectContaining({ value: v, max: 3, node: '2', step: v, steps: 3 })));
    expect(events.find((e) => e.type === 'executed')?.data).toMatchObject({ node: '3', output: { text: ['sum=1'] } });
    const previews = events.filter((e) => e.type === 'preview').map((e) => e.data);
    expect(previews).toEqual([1, 2, 3].map((step) => ({ node: '2', prompt_id: 'p', format: 'png', bytes: new Uint8Array([step]) })));
  });

  it('gives nodes no preview channel when nothing shows previews (a headless run)', async () => {
    const { engine } = setup();
    const prompt: Prompt = {
      '1': { class_type: 'TestSource', inputs: { start: 0, length: 2 } },
      '2': { class_type: 'TestSlow', inputs: { signal: ['1', 0], steps: 3 } },
      '3': { class_type: 'TestSum', inputs: { signal: ['2', 0] } },
    };
    const { result, events } = await run(engine, prompt, undefined, false);
    expect(result.status).toBe('success');
    expect(events.filter((e) => e.type === 'progress')).toHaveLength(3);
    expect(events.filter((e) => e.type === 'preview')).toEqual([]);
  });

  it('reports a failing node with the nodes that ran before it', async () => {
    const { engine } = setup();
    const { result, events } = await run(engine, {
      '1': { class_type: 'TestSource', inputs: { start: 0, length: 2 } },
      '2': { class_type: 'TestFail', inputs: { signal: ['1', 0] } },
      '3': { class_type: 'TestSum', inputs: { signal: ['2', 0] } },
    });
    expect(result.status).toBe('error');
    const error = events.find((e) => e.type === 'execution_error')?.data;
    expect(error).toMatchObject({ node_id: '2', node_type: 'TestFail', executed: ['1'], exception_message: 'this node always fails', exception_type: 'Error' });
    expect(events.some((e) => e.type === 'execution_success')).toBe(false);
  });

  it('interrupt stops at the next progress point and nothing after it runs', async () => {
    const { engine, runs } = setup();
    const controller = new AbortController();
    const events: EngineEvent[] = [];
    const result = await engine.run(
      {
        '1': { class_type: 'TestSource', inputs: { start: 0, length: 2 } },
        '2': { class_type: 'TestSlow', inputs: { signal: ['1', 0], steps: 50 } },
        '3': { class_type: 'TestSum', inputs: { signal: ['2', 0] } },
      },
      {
        promptId: 'p',
        signal: controller.signal,
        onEvent: (e) => {
          events.push(e);
          if (e.type === 'progress' && e.data.value === 3) controller.abort();
        },
      },
    );
    expect(result.status).toBe('interrupted');
    expect(events.filter((e) => e.type === 'progress')).toHaveLength(3);
    expect(events.at(-1)).toMatchObject({ type: 'execution_interrupted', data: { node_id: '2', executed: ['1'] } });
    expect(runs).not.toContain('TestSum:3');
  });

  it('interrupt before a node boundary stops before the next node', async () => {
    const { engine, runs } = setup();
    const controller = new AbortController();
    const result = await engine.run(chainPrompt(), {
      promptId: 'p',
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'executing' && e.data.node === '1') controller.abort();
      },
    });
    expect(result.status).toBe('interrupted');
    expect(runs).toEqual(['TestSource:1']);
  });

  it('refuses an invalid prompt without running anything', async () => {
    const { engine, runs } = setup();
    const result = await engine.run({ '1': { class_type: 'TestSum', inputs: {} } }, { promptId: 'p' });
    expect(result.status).toBe('invalid');
    expect(result.validation?.node_errors['1'].errors[0].type).toBe('required_input_missing');
    expect(runs).toEqual([]);
  });
});
