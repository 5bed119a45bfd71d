// A STRING output may feed a COMBO input; its value is known only once the source ran, and the engine
// refuses one that is not among the options, as validation refuses such a literal.
import { describe, expect, it } from 'vitest';
import MathNode from '../../nodes/Math.ts';
import { NodeRegistry } from '../../server/engine/node-registry.ts';
import SaveText from '../../nodes/SaveText.ts';
import Text from '../../nodes/Text.ts';
import { Engine } from '../../server/engine/engine.ts';
import type { EngineEvent } from '../../common/events.ts';
import type { Prompt } from '../../common/prompt.ts';
import { makeFolders } from '../helpers/context.ts';

const engine = new Engine({ registry: new NodeRegistry([Text, MathNode, SaveText]), folders: makeFolders(), memoryBudgetBytes: 1 << 20 });

/** Text → Math.operation (a COMBO), Math → Save Text. */
const prompt = (operation: string): Prompt => ({
  '1': { class_type: 'Text', inputs: { text: operation } },
  '2': { class_type: 'Math', inputs: { a: 6, operation: ['1', 0], b: 3 } },
  '3': { class_type: 'SaveText', inputs: { value: ['2', 0], filename_prefix: 'math' } },
});

async function run(operation: string) {
  const events: EngineEvent[] = [];
  const result = await engine.run(prompt(operation), { promptId: operation, onEvent: (e) => events.push(e) });
  return { result, events };
}

describe('linked COMBO values', () => {
  it('a linked STRING that is one of the options is used', async () => {
    const { result } = await run('multiply');
    expect(result.status).toBe('success');
    expect(result.outputs['3']).toMatchObject({ text: ['18'] });
  });

  it('a linked STRING that is not one of the options fails with value_not_in_list on that input, before the node runs', async () => {
    const { result, events } = await run('modulo');
    expect(result.status).toBe('error');
    expect(result.executed).toEqual(['1']);
    expect(result.error).toMatchObject({ node_id: '2', node_type: 'Math', input_name: 'operation', exception_type: 'value_not_in_list' });
    expect(result.error?.exception_message).toMatch(/operation: 'modulo' not in \[add, subtract, multiply, divide, min, max, power\]/);
    expect(events.some((e) => e.type === 'executing' && e.data.node === '2')).toBe(false);
  });
});
