import { describe, expect, it } from 'vitest';
import { defineNode } from '../../server/engine/node-contract.ts';
import { ALL_NODES } from '../../nodes/index.ts';
import { NodeRegistry } from '../../server/engine/node-registry.ts';
import { validatePrompt } from '../../server/engine/validate.ts';
import { makeFolders } from '../helpers/context.ts';
import { testNodes } from '../helpers/test-nodes.ts';
import type { ErrorType } from '../../common/node-errors.ts';

const Picky = defineNode({
  type: 'TestPicky',
  displayName: 'Picky',
  category: 'test',
  description: 'refuses odd lengths',
  version: 1,
  output: true,
  inputs: { required: { length: { type: 'INT', default: 2, min: 0, max: 10 } } },
  outputs: [],
  validate: ({ length }) => (length !== undefined && length % 2 === 1 ? 'length must be even; use 2, 4, 6…' : null),
  execute: () => ({ outputs: [] }),
});

const registry = new NodeRegistry([...ALL_NODES, ...testNodes().definitions, Picky]);
const env = { folders: makeFolders() };
const validate = (prompt: unknown) => validatePrompt(prompt, registry, env);

function firstErrorType(prompt: unknown): { top: ErrorType; node?: ErrorType } {
  const result = validate(prompt);
  if (result.ok) throw new Error('expected the prompt to be invalid');
  const firstNode = Object.values(result.node_errors)[0];
  return { top: result.error.type, node: firstNode?.errors[0]?.type };
}

const sum = (inputs: Record<string, unknown>) => ({ class_type: 'TestSum', inputs });
const source = { class_type: 'TestSource', inputs: { start: 0, length: 4 } };

describe('prompt validation', () => {
  it('accepts a valid prompt and coerces literals to their declared types', () => {
    const result = validate({ '1': { class_type: 'Float', inputs: { value: '2.5' } }, '2': { class_type: 'SaveText', inputs: { value: ['1', 0], filename_prefix: 7 } } });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.nodes.get('1')?.literals).toEqual({ value: 2.5 });
    expect(result.nodes.get('2')?.literals).toEqual({ filename_prefix: '7' });
    expect(result.outputs).toEqual(['2']);
  });

  it('fills optional widget defaults', () => {
    const result = validate({ '1': source, '2': sum({ signal: ['1', 0] }) });
    expect(result.ok && result.nodes.get('2')?.literals).toEqual({ label: 'sum' });
  });

  it('invalid_prompt: not an object of nodes', () => {
    expect(firstErrorType([1, 2]).top).toBe('invalid_prompt');
    expect(firstErrorType({ '1': { inputs: {} } })).toEqual({ top: 'invalid_prompt', node: 'invalid_prompt' });
  });

  it('missing_node_type', () => {
    const result = validate({ '1': { class_type: 'NoSuchNode', inputs: {} }, '2': sum({ signal: ['1', 0] }) });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.type).toBe('missing_node_type');
    expect(result.node_errors['1']).toMatchObject({ class_type: 'NoSuchNode', errors: [{ type: 'missing_node_type' }] });
  });

  it('prompt_no_outputs', () => {
    expect(firstErrorType({ '1': source }).top).toBe('prompt_no_outputs');
  });

  it('required_input_missing names the input', () => {
    const result = validate({ '1': sum({}) });
    expect(!result.ok && result.node_errors['1'].errors[0]).toMatchObject({ type: 'required_input_missing', extra_info: { input_name: 'signal' } });
    expect(!result.ok && result.error.type).toBe('prompt_outputs_failed_validation');
  });

  it('bad_linked_input: missing source, bad slot, malformed link', () => {
    expect(firstErrorType({ '2': sum({ signal: ['9', 0] }) }).node).toBe('bad_linked_input');
    expect(firstErrorType({ '1': source, '2': sum({ signal: ['1', 3] }) }).node).toBe('bad_linked_input');
    expect(firstErrorType({ '1': source, '2': sum({ signal: ['1', 0, 1] }) }).node).toBe('bad_linked_input');
  });

  it('return_type_mismatch', () => {
    const result = validate({ '1': { class_type: 'Int', inputs: { value: 1 } }, '2': sum({ signal: ['1', 0] }) });
    expect(!result.ok && result.node_errors['2'].errors[0]).toMatchObject({ type: 'return_type_mismatch', extra_info: { input_name: 'signal', received_type: 'INT' } });
  });

  it('invalid_input_type for literals that cannot be converted', () => {
    expect(firstErrorType({ '1': { class_type: 'TestPicky', inputs: { length: 'many' } } }).node).toBe('invalid_input_type');
    expect(firstErrorType({ '1': { class_type: 'TestPicky', inputs: { length: 1.5 } } }).node).toBe('invalid_input_type');
    expect(firstErrorType({ '1': source, '2': sum({ signal: 'not a link' }) }).node).toBe('invalid_input_type');
  });

  it('value_smaller_than_min and value_bigger_than_max', () => {
    expect(firstErrorType({ '1': { class_type: 'TestPicky', inputs: { length: -2 } } }).node).toBe('value_smaller_than_min');
    expect(firstErrorType({ '1': { class_type: 'TestPicky', inputs: { length: 12 } } }).node).toBe('value_bigger_than_max');
    expect(firstErrorType({ '1': { class_type: 'TestPicky', inputs: { length: 1e300 } } }).node).toBe('value_bigger_than_max');
  });

  it('value_not_in_list', () => {
    const result = validate({ '1': { class_type: 'Math', inputs: { a: 1, b: 2, operation: 'modulo' } }, '2': { class_type: 'SaveText', inputs: { value: ['1', 0], filename_prefix: 'x' } } });
    expect(!result.ok && result.node_errors['1'].errors[0]).toMatchObject({ type: 'value_not_in_list', extra_info: { input_name: 'operation' } });
    expect(!result.ok && result.node_errors['1'].errors[0].details).toContain('add');
  });

  it('custom_validation_failed carries the node\'s message', () => {
    const result = validate({ '1': { class_type: 'TestPicky', inputs: { length: 3 } } });
    expect(!result.ok && result.node_errors['1'].errors[0]).toMatchObject({ type: 'custom_validation_failed', details: 'length must be even; use 2, 4, 6…' });
  });

  it('dependency_cycle marks the nodes on the loop', () => {
    const result = validate({
      '1': { class_type: 'TestScale', inputs: { signal: ['2', 0], factor: 1 } },
      '2': { class_type: 'TestScale', inputs: { signal: ['1', 0], factor: 1 } },
      '3': sum({ signal: ['2', 0] }),
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(Object.keys(result.node_errors).sort()).toEqual(['1', '2']);
    expect(result.node_errors['1'].errors[0].type).toBe('dependency_cycle');
    expect(result.node_errors['1'].dependent_outputs).toEqual(['3']);
  });

  it('lists the outputs that depend on a failing node', () => {
    const result = validate({ '1': { class_type: 'TestSource', inputs: { start: 0, length: 0 } }, '2': sum({ signal: ['1', 0] }), '3': sum({ signal: ['1', 0] }) });
    expect(!result.ok && result.node_errors['1'].dependent_outputs.sort()).toEqual(['2', '3']);
  });

  it('unwraps {__value__} literal lists and refuses them for scalar inputs', () => {
    expect(firstErrorType({ '1': { class_type: 'TestPicky', inputs: { length: { __value__: [2] } } } }).node).toBe('invalid_input_type');
  });
});
