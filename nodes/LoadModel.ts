import { existsSync } from 'node:fs';
import path from 'node:path';
import { folderFingerprint } from '../server/file-identity.ts';
import { FAMILY_NAMES, listModelFolders, loadModel } from '../server/runtime/model-folder.ts';
import { DEVICES } from '../server/runtime/sessions.ts';
import { defineNode } from '../server/engine/node-contract.ts';
import { NodeInputError } from '../server/errors.ts';

export default defineNode({
  type: 'LoadModel',
  displayName: 'Load Model',
  category: 'limelight/model',
  description:
    'Loads a Stable Diffusion 1.x/2.x, SDXL or SD3/3.5 ONNX export (diffusers/optimum folder layout) from the models folder; the family is detected from the folder. device: auto uses CUDA when its provider is installed, else CPU; a device that cannot load falls back to CPU with a warning.',
  version: 1,
  inputs: {
    required: {
      model: { type: 'COMBO', options: (env) => listModelFolders(env.folders.models), default: 'limelight-demo' },
      device: { type: 'COMBO', options: DEVICES, default: 'auto' },
    },
  },
  outputs: [
    { type: 'MODEL', name: 'MODEL' },
    { type: 'CLIP', name: 'CLIP' },
    { type: 'VAE', name: 'VAE' },
  ],
  fingerprint: ({ model }, env) => {
    const dir = path.join(env.folders.models, model ?? '');
    return model && existsSync(dir) ? folderFingerprint(dir) : 'missing';
  },
  execute: async ({ model, device }, ctx) => {
    let loaded;
    try {
      loaded = await loadModel(path.join(ctx.folders.models, model), device);
    } catch (error) {
      throw new NodeInputError('model', (error as Error).message);
    }
    for (const warning of loaded.warnings) ctx.log.warn(warning);
    const summary = `${model} (${FAMILY_NAMES[loaded.model.family]}) on ${loaded.provider}${loaded.model.unet.floatType === 'float16' ? ' (fp16)' : ''}`;
    ctx.log.info(summary);
    return { outputs: [{ ...loaded.model, previewVae: loaded.vae }, loaded.clip, loaded.vae], ui: { text: [summary, ...loaded.warnings] } };
  },
});
