// Through the engine on the demo model: an injected mask whose count does not fit the clip, or a `words`
// entry the prompt lacks, is refused before the Sampler samples anything, as an error on the
// InjectCrossAttention node's input (also when that node's output comes from the cache of another prompt).
// Counts the frame pre-pass can see are refused before anything runs; counts it cannot see (a mask from a
// node that declares no frame rule) are refused by the Sampler's check, still before sampling.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALL_NODES } from '../../nodes/index.ts';
import { defineNode } from '../../server/engine/node-contract.ts';
import { NodeRegistry } from '../../server/engine/node-registry.ts';
import { Engine } from '../../server/engine/engine.ts';
import type { EngineEvent } from '../../common/events.ts';
import type { Prompt } from '../../common/prompt.ts';
import { encodePng } from '../../server/media/image-io.ts';
import { DEMO_MODEL_NAME, ensureDemoModel } from '../../server/demo/demo-model.ts';
import { makeFolders } from '../helpers/context.ts';

const SIZE = 64;
const folders = makeFolders();
ensureDemoModel(folders.models);

/** An input sub-folder of `count` grey PNGs (no alpha, so Load Image Sequence's MASK is white). */
async function imageFolder(name: string, count: number): Promise<void> {
  mkdirSync(path.join(folders.input, name));
  for (let i = 0; i < count; i++) {
    writeFileSync(path.join(folders.input, name, `${i}.png`), await encodePng(new Uint8Array(SIZE * SIZE * 3).fill(100 + 20 * i), SIZE, SIZE));
  }
}
await imageFolder('clip3', 3);
await imageFolder('clip2', 2);
await imageFolder('masks2', 2);
await imageFolder('mask1', 1);

/** Passes a MASK on without declaring its frame count, so the pre-pass cannot know it. */
const OpaqueMask = defineNode({
  type: 'TestOpaqueMask',
  displayName: 'Opaque mask',
  category: 'test',
  description: 'passes its mask on; its frame count is unknown before running',
  version: 1,
  inputs: { required: { mask: { type: 'MASK' } } },
  outputs: [{ type: 'MASK', name: 'MASK' }],
  execute: ({ mask }) => ({ outputs: [mask] }),
});

const engine = new Engine({ registry: new NodeRegistry([...ALL_NODES, OpaqueMask]), folders, memoryBudgetBytes: 256 << 20 });

/** LoadModel → TextEncode, clip → VAEEncode, masks → InjectCrossAttention (node `inject`) → Sampler (7) → VAEDecode → PreviewImage. */
function prompt(options: { clip: string; masks: string; words?: string; inject?: string; opaque?: boolean }): Prompt {
  const inject = options.inject ?? '6';
  const mask = options.opaque ? ['10', 0] : ['5', 1];
  return {
    '10': { class_type: 'TestOpaqueMask', inputs: { mask: ['5', 1] } },
    '1': { class_type: 'LoadModel', inputs: { model: DEMO_MODEL_NAME, device: 'cpu' } },
    '2': { class_type: 'TextEncode', inputs: { clip: ['1', 1], text: 'a red door' } },
    '3': { class_type: 'LoadImageSequence', inputs: { folder: options.clip } },
    '4': { class_type: 'VAEEncode', inputs: { vae: ['1', 2], image: ['3', 0] } },
    '5': { class_type: 'LoadImageSequence', inputs: { folder: options.masks } },
    [inject]: { class_type: 'InjectCrossAttention', inputs: { model: ['1', 0], mask, weight: 0.8, words: options.words ?? '' } },
    '7': {
      class_type: 'Sampler',
      inputs: { model: [inject, 0], positive: ['2', 0], latent: ['4', 0], seed: 1, steps: 2, cfg: 7, sampler: 'euler', temperature: 0, denoise: 0.5, batch_size: 2, noise_per_frame: false },
    },
    '8': { class_type: 'VAEDecode', inputs: { vae: ['1', 2], samples: ['7', 0] } },
    '9': { class_type: 'PreviewImage', inputs: { images: ['8', 0], max_frames: 8 } },
  };
}

async function run(body: Prompt) {
  const events: EngineEvent[] = [];
  const result = await engine.run(body, { promptId: 'p', onEvent: (e) => events.push(e) });
  const samplerProgress = events.filter((e) => e.type === 'progress' && e.data.node === '7');
  return { result, samplerProgress, events };
}

describe('InjectCrossAttention inputs the Sampler refuses', () => {
  it('a fitting mask and a word of the prompt sample', async () => {
    const { result, samplerProgress } = await run(prompt({ clip: 'clip3', masks: 'mask1', words: 'red' }));
    expect(result.status).toBe('success');
    expect(samplerProgress.length).toBeGreaterThan(0);
  });

  it('a mask count that does not fit the clip is refused on InjectCrossAttention\'s mask before anything runs', async () => {
    const { result, events } = await run(prompt({ clip: 'clip3', masks: 'masks2' }));
    expect(result.status).toBe('invalid');
    expect(result.validation?.node_errors['6']).toMatchObject({ class_type: 'InjectCrossAttention', errors: [{ extra_info: { input_name: 'mask' } }] });
    expect(events).toEqual([]);
  });

  it('a mask count the pre-pass cannot see is an error on InjectCrossAttention\'s mask, before any sampling', async () => {
    const { result, samplerProgress } = await run(prompt({ clip: 'clip3', masks: 'masks2', opaque: true }));
    expect(result.status).toBe('error');
    expect(result.error).toMatchObject({ node_id: '6', node_type: 'InjectCrossAttention', input_name: 'mask', exception_type: 'NodeInputError' });
    expect(result.error?.exception_message).toMatch(/mask has 2 masks but the clip has 3 frames; give one mask \(used for every frame\) or one per frame/);
    expect(samplerProgress).toEqual([]);
    expect(result.executed).not.toContain('7');
  });

  it('a words entry missing from the prompt is an error on InjectCrossAttention\'s words, before any sampling', async () => {
    const { result, samplerProgress } = await run(prompt({ clip: 'clip3', masks: 'mask1', words: 'red, window' }));
    expect(result.error).toMatchObject({ node_id: '6', node_type: 'InjectCrossAttention', input_name: 'words' });
    expect(result.error?.exception_message).toMatch(/"window" is not a word of the prompt "a red door"/);
    expect(samplerProgress).toEqual([]);
  });

  it('names the node of the prompt being run when the injected MODEL comes from another prompt\'s cache', async () => {
    expect((await run(prompt({ clip: 'clip2', masks: 'masks2', opaque: true }))).result.status).toBe('success');
    const { result, samplerProgress } = await run(prompt({ clip: 'clip3', masks: 'masks2', inject: '16', opaque: true }));
    expect(result.error).toMatchObject({ node_id: '16', node_type: 'InjectCrossAttention', input_name: 'mask' });
    expect(samplerProgress).toEqual([]);
  });
});
