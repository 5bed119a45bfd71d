import { describe, expect, it } from 'vitest';
import { NodeRegistry } from '../../server/engine/node-registry.ts';
import { executionOrder } from '../../server/engine/order.ts';
import { validatePrompt } from '../../server/engine/validate.ts';
import { makeFolders } from '../helpers/context.ts';
import { testNodes } from '../helpers/test-nodes.ts';

const registry = new NodeRegistry(testNodes().definitions);

function orderOf(prompt: Record<string, { class_type: string; inputs: Record<string, unknown> }>): string[] {
  const result = validatePrompt(prompt, registry, { folders: makeFolders() });
  if (!result.ok) throw new Error(result.error.details);
  return executionOrder(result.nodes, result.outputs);
}

describe('execution order', () => {
  it('puts every node after its inputs', () => {
    const order = orderOf({
      '5': { class_type: 'TestSum', inputs: { signal: ['4', 0] } },
      '4': { class_type: 'TestScale', inputs: { signal: ['3', 0], factor: 1 } },
      '3': { class_type: 'TestScale', inputs: { signal: ['1', 0], factor: 1 } },
      '1': { class_type: 'TestSource', inputs: { start: 0, length: 1 } },
    });
    expect(order).toEqual(['1', '3', '4', '5']);
  });

  it('finishes the output with the shortest branch first, so previews come early', () => {
    const order = orderOf({
      '1': { class_type: 'TestSource', inputs: { start: 0, length: 1 } },
      '2': { class_type: 'TestScale', inputs: { signal: ['1', 0], factor: 1 } },
      '3': { class_type: 'TestScale', inputs: { signal: ['2', 0], factor: 1 } },
      '4': { class_type: 'TestSum', inputs: { signal: ['3', 0] } }, // long branch, lower id
      '9': { class_type: 'TestSum', inputs: { signal: ['1', 0] } }, // preview right after the source
    });
    expect(order).toEqual(['1', '9', '2', '3', '4']);
  });

  it('handles a 20 000-node chain without recursion limits', () => {
    const prompt: Record<string, { class_type: string; inputs: Record<string, unknown> }> = {
      '0': { class_type: 'TestSource', inputs: { start: 0, length: 1 } },
    };
    for (let i = 1; i < 20000; i++) prompt[String(i)] = { class_type: 'TestScale', inputs: { signal: [String(i - 1), 0], factor: 1 } };
    prompt.out = { class_type: 'TestSum', inputs: { signal: ['19999', 0] } };
    const order = orderOf(prompt);
    expect(order).toHaveLength(20001);
    expect(order[0]).toBe('0');
    expect(order.at(-1)).toBe('out');
  });
});
