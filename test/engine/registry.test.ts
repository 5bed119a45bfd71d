import { describe, expect, it } from 'vitest';
import { defineNode } from '../../server/engine/node-contract.ts';
import { ALL_NODES } from '../../nodes/index.ts';
import { NodeRegistry } from '../../server/engine/node-registry.ts';
import { isTypeCompatible, SOCKET_TYPES } from '../../common/socket-types.ts';
import { makeFolders } from '../helpers/context.ts';

describe('socket types', () => {
  it('connect case-insensitively, with * wildcards and A,B lists; COMBO accepts STRING', () => {
    expect(isTypeCompatible('IMAGE', 'image')).toBe(true);
    expect(isTypeCompatible('IMAGE', 'MASK')).toBe(false);
    expect(isTypeCompatible('*', 'MASK')).toBe(true);
    expect(isTypeCompatible('LATENT', '*')).toBe(true);
    expect(isTypeCompatible('IMAGE,MASK', 'MASK')).toBe(true);
    expect(isTypeCompatible('INT', 'FLOAT,STRING')).toBe(false);
    expect(isTypeCompatible('STRING', 'COMBO')).toBe(true);
  });

  it('carry the ComfyUI palette colours', () => {
    expect(SOCKET_TYPES.IMAGE.color).toBe('#64B5F6');
    expect(SOCKET_TYPES.MASK.color).toBe('#81C784');
    expect(SOCKET_TYPES.CONDITIONING.color).toBe('#FFA931');
  });
});

describe('object_info', () => {
  const env = { folders: makeFolders() };

  it('describes every node in ComfyUI\'s shape', () => {
    const info = new NodeRegistry(ALL_NODES).objectInfo(env);
    expect(info.Math).toMatchObject({
      input: {
        required: {
          a: ['FLOAT', { default: 0, min: -1e12, max: 1e12, step: 0.01 }],
          operation: [['add', 'subtract', 'multiply', 'divide', 'min', 'max', 'power'], { default: 'add' }],
        },
        optional: {},
      },
      input_order: { required: ['a', 'operation', 'b'], optional: [] },
      output: ['FLOAT', 'INT'],
      output_is_list: [false, false],
      output_name: ['FLOAT', 'INT'],
      name: 'Math',
      display_name: 'Math',
      category: 'utils/primitives',
      output_node: false,
    });
    expect(info.SaveText.output_node).toBe(true);
    expect(info.SaveText.input.required.value).toEqual(['*', { tooltip: 'text is saved as .txt, anything else as .json' }]);
    for (const entry of Object.values(info)) expect(JSON.parse(JSON.stringify(entry))).toEqual(entry);
  });

  it('lists dynamic combos now, marks uploads and seed controls, and refuses duplicate types', () => {
    const Pick = defineNode({
      type: 'Pick',
      displayName: 'Pick',
      category: 'test',
      description: '',
      version: 1,
      inputs: {
        required: {
          file: { type: 'COMBO', options: ({ folders }) => [folders.input.length > 0 ? 'a.mp4' : 'none'], upload: 'video' },
          seed: { type: 'INT', default: 0, controlAfterGenerate: true },
        },
      },
      outputs: [],
      execute: () => ({ outputs: [] }),
    });
    const info = new NodeRegistry([Pick]).objectInfo(env).Pick;
    expect(info.input.required.file).toEqual([['a.mp4'], { video_upload: true }]);
    expect(info.input.required.seed).toEqual(['INT', { default: 0, control_after_generate: true }]);
    expect(() => new NodeRegistry([Pick, Pick])).toThrow(/declared twice/);
  });
});
