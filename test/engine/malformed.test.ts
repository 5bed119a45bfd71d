// 200 generated malformed prompts: each is refused with errors, and nothing throws out of the engine.
import { describe, expect, it } from 'vitest';
import { ALL_NODES } from '../../nodes/index.ts';
import { NodeRegistry } from '../../server/engine/node-registry.ts';
import { Engine } from '../../server/engine/engine.ts';
import { makeFolders } from '../helpers/context.ts';
import { testNodes } from '../helpers/test-nodes.ts';

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function deep(depth: number, asArray: boolean): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = asArray ? [value, 0] : { nested: value };
  return value;
}

const valid = () => ({
  '1': { class_type: 'TestSource', inputs: { start: 0, length: 4 } },
  '2': { class_type: 'TestScale', inputs: { signal: ['1', 0], factor: 2 } },
  '3': { class_type: 'TestSum', inputs: { signal: ['2', 0] } },
});

type Mutation = (rand: () => number) => unknown;

const MUTATIONS: Record<string, Mutation> = {
  wrongShape: (rand) => [null, 42, 'prompt', [], [valid()], true, {}][Math.floor(rand() * 7)],
  nodeNotObject: (rand) => ({ ...valid(), '2': [null, 'x', 5, []][Math.floor(rand() * 4)] }),
  missingClassType: () => ({ ...valid(), '2': { inputs: { signal: ['1', 0] } } }),
  inputsNotObject: (rand) => ({ ...valid(), '2': { class_type: 'TestScale', inputs: [null, 'x', 3][Math.floor(rand() * 3)] } }),
  danglingLink: (rand) => ({ ...valid(), '3': { class_type: 'TestSum', inputs: { signal: [String(100 + Math.floor(rand() * 1000)), 0] } } }),
  badSlot: (rand) => ({ ...valid(), '3': { class_type: 'TestSum', inputs: { signal: ['2', [1, -1, 7, 0.5, 1e9][Math.floor(rand() * 5)]] } } }),
  malformedLink: (rand) => ({ ...valid(), '3': { class_type: 'TestSum', inputs: { signal: [['1'], ['1', 0, 0], [null, 0], ['1', '0']][Math.floor(rand() * 4)] } } }),
  cycle: (rand) => {
    const length = 2 + Math.floor(rand() * 5);
    const prompt: Record<string, unknown> = {};
    for (let i = 0; i < length; i++) prompt[`c${i}`] = { class_type: 'TestScale', inputs: { signal: [`c${(i + 1) % length}`, 0], factor: 1 } };
    prompt.out = { class_type: 'TestSum', inputs: { signal: ['c0', 0] } };
    return prompt;
  },
  selfLoop: () => ({ '1': { class_type: 'TestScale', inputs: { signal: ['1', 0], factor: 1 } }, '2': { class_type: 'TestSum', inputs: { signal: ['1', 0] } } }),
  wrongType: () => ({ ...valid(), '4': { class_type: 'Int', inputs: { value: 3 } }, '3': { class_type: 'TestSum', inputs: { signal: ['4', 0] } } }),
  hugeNumber: (rand) => ({ ...valid(), '1': { class_type: 'TestSource', inputs: { start: [1e308, -1e308, 2 ** 60, Number.MAX_VALUE][Math.floor(rand() * 4)], length: 4 } } }),
  hugeInt: (rand) => ({ ...valid(), '1': { class_type: 'TestSource', inputs: { start: 0, length: [2 ** 53 + 2, 1e30, -5, 0][Math.floor(rand() * 4)] } } }),
  notANumber: (rand) => ({ ...valid(), '2': { class_type: 'TestScale', inputs: { signal: ['1', 0], factor: ['NaN', 'Infinity', '', 'two', true, null][Math.floor(rand() * 6)] } } }),
  deepObject: (rand) => ({ ...valid(), '2': { class_type: 'TestScale', inputs: { signal: ['1', 0], factor: deep(500 + Math.floor(rand() * 5000), false) } } }),
  deepArray: (rand) => ({ ...valid(), '3': { class_type: 'TestSum', inputs: { signal: deep(500 + Math.floor(rand() * 5000), true) } } }),
  unknownType: (rand) => ({ ...valid(), '2': { class_type: `Nope${Math.floor(rand() * 100)}`, inputs: { signal: ['1', 0] } } }),
  prototypeKeys: (rand) => JSON.parse(`{"__proto__": {"class_type": "TestSum", "inputs": {"signal": ["constructor", 0]}}, "${['constructor', 'toString', 'hasOwnProperty'][Math.floor(rand() * 3)]}": {"class_type": "TestSum", "inputs": {}}}`),
  missingRequired: () => ({ ...valid(), '2': { class_type: 'TestScale', inputs: { factor: 2 } } }),
  comboNotInList: (rand) => ({ '1': { class_type: 'Math', inputs: { a: 1, b: 2, operation: ['mod', 1, null, ''][Math.floor(rand() * 4)] } }, '2': { class_type: 'SaveText', inputs: { value: ['1', 0], filename_prefix: 'x' } } }),
  noOutputs: () => ({ '1': valid()['1'], '2': valid()['2'] }),
};

describe('malformed prompts', () => {
  const engine = new Engine({ registry: new NodeRegistry([...ALL_NODES, ...testNodes().definitions]), folders: makeFolders(), memoryBudgetBytes: 1 << 20 });
  const names = Object.keys(MUTATIONS);
  const rand = random(20261128);
  const cases = Array.from({ length: 200 }, (_, i) => {
    const name = names[i % names.length];
    return { name: `${i}: ${name}`, prompt: MUTATIONS[name](rand) };
  });

  it.each(cases)('$name is refused with errors', async ({ prompt }) => {
    const validation = engine.validate(prompt);
    expect(validation.ok).toBe(false);
    if (validation.ok) return;
    expect(validation.error.type).toMatch(/^[a-z_]+$/);
    expect(validation.error.details.length).toBeGreaterThan(0);
    for (const entry of Object.values(validation.node_errors)) {
      expect(entry.errors.length).toBeGreaterThan(0);
      for (const error of entry.errors) expect(error.details.length).toBeGreaterThan(0);
    }
    const isNodeLevel = prompt !== null && typeof prompt === 'object' && !Array.isArray(prompt) && Object.keys(prompt).length > 0 && validation.error.type !== 'prompt_no_outputs';
    if (isNodeLevel) expect(Object.keys(validation.node_errors).length).toBeGreaterThan(0);
    const result = await engine.run(prompt, { promptId: 'fuzz' });
    expect(result.status).toBe('invalid');
  });
});
