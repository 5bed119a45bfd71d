// A prompt that keeps the demo UNet busy: the first frames of the sample clip through the Sampler, for
// the tests and benchmarks of a server that stays responsive while one runs.
import type { Settings } from '../../server/config.ts';
import { DEMO_MODEL_NAME, ensureDemoModel } from '../../server/demo/demo-model.ts';
import { ensureSampleMedia, SAMPLE } from '../../server/demo/sample-media.ts';

/** The demo model and the sample clip, in the settings' folders. */
export async function prepareDemo(settings: Settings): Promise<void> {
  ensureDemoModel(settings.folders.models);
  await ensureSampleMedia(settings.folders.input);
}

/**
 * LoadModel → TextEncode → LoadVideo (the first `frames` frames, 512²) → VAEEncode → Sampler (node 5:
 * `steps` steps, `batch` frames per UNet call, denoise 1) → VAEDecode → PreviewImage.
 */
export function samplerPrompt({ frames, steps, batch = 4, seed = 0 }: { frames: number; steps: number; batch?: number; seed?: number }): Record<string, unknown> {
  return {
    '1': { class_type: 'LoadModel', inputs: { model: DEMO_MODEL_NAME, device: 'cpu' } },
    '2': { class_type: 'TextEncode', inputs: { clip: ['1', 1], text: 'red brick wall, golden ball' } },
    '3': { class_type: 'LoadVideo', inputs: { video: SAMPLE.video, frame_load_cap: frames, skip_first_frames: 0, select_every_nth: 1, force_rate: 0, width: 0, height: 0 } },
    '4': { class_type: 'VAEEncode', inputs: { vae: ['1', 2], image: ['3', 0] } },
    '5': {
      class_type: 'Sampler',
      inputs: { model: ['1', 0], positive: ['2', 0], latent: ['4', 0], seed, steps, cfg: 7, sampler: 'euler', temperature: 0, denoise: 1, batch_size: batch, noise_per_frame: false },
    },
    '6': { class_type: 'VAEDecode', inputs: { vae: ['1', 2], samples: ['5', 0] } },
    '7': { class_type: 'PreviewImage', inputs: { images: ['6', 0], max_frames: 1 } },
  };
}
