import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALL_NODES } from '../../nodes/index.ts';
import { NodeRegistry } from '../../server/engine/node-registry.ts';
import { describeNodeClass, describeNodeClasses, nextSeedValue, snapToStep, type InputDescription } from '../../common/node-defs.ts';
import type { ObjectInfoEntry } from '../../common/object-info.ts';

function entry(partial: Partial<ObjectInfoEntry> & Pick<ObjectInfoEntry, 'input'>): ObjectInfoEntry {
  return {
    input_order: { required: Object.keys(partial.input.required), optional: Object.keys(partial.input.optional) },
    output: [],
    output_is_list: [],
    output_name: [],
    output_tooltips: [],
    name: 'Test',
    display_name: 'Test Node',
    description: '',
    category: 'tests/things',
    python_module: 'limelight',
    output_node: false,
    version: 1,
    ...partial,
  };
}

function byName(inputs: InputDescription[]): Record<string, InputDescription> {
  return Object.fromEntries(inputs.map((i) => ['widget' in i ? i.widget.name : i.socket.name, i]));
}

describe('node class descriptions from /object_info', () => {
  const info = entry({
    name: 'Sample',
    display_name: 'Sample It',
    output_node: true,
    input: {
      required: {
        image: ['IMAGE', {}],
        seed: ['INT', { default: 7, min: 0, max: 100, control_after_generate: true }],
        strength: ['FLOAT', { default: 0.85, min: 0, max: 1, step: 0.05 }],
        prompt: ['STRING', { multiline: true, default: 'a cat' }],
        mode: [['fast', 'slow'], { default: 'slow' }],
        frames: ['INT', { forceInput: true }],
        file: [['a.png', 'b.mp4'], { image_upload: true, video_upload: true }],
      },
      optional: { enabled: ['BOOLEAN', { default: true }], mask: ['MASK', {}] },
      hidden: {},
    },
    output: ['IMAGE', 'METRICS'],
    output_name: ['frames', 'report'],
  });
  const description = describeNodeClass(info);
  const inputs = byName(description.inputs);

  it('keeps the title, category, output flag and outputs', () => {
    expect(description).toMatchObject({ type: 'Sample', title: 'Sample It', category: 'tests/things', outputNode: true });
    expect(description.outputs).toEqual([
      { name: 'frames', type: 'IMAGE', tooltip: undefined },
      { name: 'report', type: 'METRICS', tooltip: undefined },
    ]);
  });

  it('keeps the declaration order, required before optional', () => {
    expect(description.inputs.map((i) => ('widget' in i ? i.widget.name : i.socket.name))).toEqual([
      'image', 'seed', 'strength', 'prompt', 'mode', 'frames', 'file', 'enabled', 'mask',
    ]);
  });

  it('makes typed inputs and forceInput primitives sockets', () => {
    expect(inputs.image).toEqual({ socket: { name: 'image', type: 'IMAGE', optional: false, tooltip: undefined } });
    expect(inputs.frames).toEqual({ socket: { name: 'frames', type: 'INT', optional: false, tooltip: undefined } });
    expect(inputs.mask).toMatchObject({ socket: { type: 'MASK', optional: true } });
  });

  it('makes primitives and combos widgets, each drivable by a link of its type', () => {
    expect(inputs.seed).toMatchObject({
      widget: { kind: 'number', socketType: 'INT', value: 7, control: 'control_after_generate', options: { min: 0, max: 100, step: 1, precision: 0, integer: true } },
    });
    expect(inputs.strength).toMatchObject({ widget: { kind: 'number', socketType: 'FLOAT', value: 0.85, options: { step: 0.05, precision: 2 } } });
    expect(inputs.prompt).toMatchObject({ widget: { kind: 'text', socketType: 'STRING', value: 'a cat', options: { multiline: true } } });
    expect(inputs.mode).toMatchObject({ widget: { kind: 'combo', socketType: 'COMBO', value: 'slow', options: { values: ['fast', 'slow'] } } });
    expect(inputs.enabled).toMatchObject({ widget: { kind: 'toggle', socketType: 'BOOLEAN', value: true, optional: true } });
  });

  it('offers uploads on file combos and picks the first option without a default', () => {
    expect(inputs.file).toMatchObject({ widget: { kind: 'combo', value: 'a.png', uploads: ['image', 'video'] } });
    expect(inputs.mode).toMatchObject({ widget: { uploads: [] } });
  });

  it('gives a second seed on one node its own control widget', () => {
    const two = describeNodeClass(
      entry({
        input: {
          required: { seed: ['INT', { control_after_generate: true }], noise_seed: ['INT', { control_after_generate: true }] },
          optional: {},
          hidden: {},
        },
      }),
    );
    expect(two.inputs.map((i) => ('widget' in i ? i.widget.control : null))).toEqual(['control_after_generate', 'noise_seed_control_after_generate']);
  });

  it('derives defaults and precision when the server gives none', () => {
    const bare = byName(
      describeNodeClass(
        entry({
          input: { required: { n: ['INT', { min: 3 }], x: ['FLOAT', {}], y: ['FLOAT', { step: 0.001 }], z: ['FLOAT', { step: 0.01, round: 0.1 }], s: ['STRING', {}] }, optional: {}, hidden: {} },
        }),
      ).inputs,
    );
    expect(bare.n).toMatchObject({ widget: { value: 3 } });
    expect(bare.x).toMatchObject({ widget: { value: 0, options: { step: 0.01, precision: 2 } } });
    expect(bare.y).toMatchObject({ widget: { options: { precision: 3 } } });
    expect(bare.z).toMatchObject({ widget: { options: { precision: 1 } } });
    expect(bare.s).toMatchObject({ widget: { value: '', options: { multiline: false } } });
  });

  it('describes every node the server ships, with a widget or socket for each declared input', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'limelight-defs-'));
    const folders = { input: dir, output: dir, temp: dir, models: dir };
    const objectInfo = new NodeRegistry(ALL_NODES).objectInfo({ folders });
    const descriptions = describeNodeClasses(objectInfo);
    expect(descriptions.map((d) => d.type)).toEqual(Object.keys(objectInfo));
    for (const description of descriptions) {
      const info = objectInfo[description.type];
      const declared = [...info.input_order.required, ...info.input_order.optional];
      expect(description.inputs.map((i) => ('widget' in i ? i.widget.name : i.socket.name))).toEqual(declared);
      expect(description.outputs.map((o) => o.type)).toEqual(info.output);
    }
  });
});

describe('seed control after a queued run', () => {
  const range = { min: 0, max: 10 };
  it('keeps, steps and wraps the value', () => {
    expect(nextSeedValue('fixed', 5, range)).toBe(5);
    expect(nextSeedValue('increment', 5, range)).toBe(6);
    expect(nextSeedValue('increment', 10, range)).toBe(0);
    expect(nextSeedValue('decrement', 0, range)).toBe(10);
  });
  it('randomizes within the range', () => {
    expect(nextSeedValue('randomize', 5, range, () => 0)).toBe(0);
    expect(nextSeedValue('randomize', 5, range, () => 0.9999)).toBe(10);
  });
});

describe('number widget values on the step grid', () => {
  it('rounds away the float noise of repeated steps', () => {
    let value = 20;
    for (let i = 0; i < 10; i++) value += 0.1;
    expect(value).not.toBe(21);
    expect(snapToStep(value, { step: 0.1, precision: 1 })).toBe(21);
    expect(snapToStep(20.999999999999982, { step: 0.01, precision: 2 })).toBe(21);
  });
  it('snaps to multiples of the step, within the range', () => {
    expect(snapToStep(13, { min: 0, step: 8, precision: 0 })).toBe(16);
    expect(snapToStep(7.4, { step: 1, precision: 0 })).toBe(7);
    expect(snapToStep(0.03, { min: 0.05, max: 1, step: 0.1, precision: 2 })).toBe(0.05);
    expect(snapToStep(-3.14159, { min: -1e12, max: 1e12, step: 0.01, precision: 2 })).toBe(-3.14);
  });
});
