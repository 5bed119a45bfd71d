// The live-preview map: fitted to the model's own decoder, it shows a latent frame's colours close to
// what the VAE decoder makes of it, without running the decoder.
import { describe, expect, it, vi } from 'vitest';
import { fitLatentPreview, latentToRgb, throttledPreview, type LatentPreviewMap } from '../../server/runtime/latent-preview.ts';
import { loadModel } from '../../server/runtime/model-folder.ts';
import { decodeLatents, encodeImages } from '../../server/runtime/vae.ts';
import { demoModel, syntheticClip } from '../helpers/runtime-fixtures.ts';

/** Interleaved RGB averaged over factor × factor blocks: the decoded frame at the latent's resolution. */
function blockMeans(rgb: Uint8Array, width: number, height: number, factor: number): Float64Array {
  const [w, h] = [width / factor, height / factor];
  const out = new Float64Array(w * h * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) out[3 * (Math.floor(y / factor) * w + Math.floor(x / factor)) + c] += rgb[3 * (y * width + x) + c] / factor ** 2;
    }
  }
  return out;
}

describe('latent preview', () => {
  it("shows a latent frame's colours within a few levels of the decoder's output, at latent resolution", async () => {
    const { vae } = await loadModel(demoModel(), 'cpu');
    const clip = syntheticClip(64, 64, 2, 8);
    const latent = await encodeImages(vae, clip, 2);
    const map = await fitLatentPreview(vae);
    const decoded = await decodeLatents(vae, latent, 2);
    for (let f = 0; f < latent.frames.length; f++) {
      const preview = latentToRgb(map, latent.frames[f], latent.width * latent.height);
      const reference = blockMeans(decoded.frames[f], decoded.width, decoded.height, vae.downFactor);
      let error = 0;
      for (let i = 0; i < preview.length; i++) error += Math.abs(preview[i] - reference[i]);
      expect(error / preview.length).toBeLessThan(4);
      // And it is a picture of the frame, not a flat average: the disc and the gradient differ.
      const spread = Math.max(...preview) - Math.min(...preview);
      expect(spread).toBeGreaterThan(100);
    }
  });

  it('is due once per interval: the first call shows one, then none until the interval has passed', async () => {
    const grey: LatentPreviewMap = { channels: 1, weights: new Float32Array(3), bias: new Float32Array(3) };
    const sent: Uint8Array[] = [];
    const slow = throttledPreview(grey, 4, 4, (jpeg) => sent.push(jpeg), Number.POSITIVE_INFINITY);
    expect(slow.due()).toBe(true);
    slow.show(new Float32Array(16));
    expect(slow.due()).toBe(false);
    const eager = throttledPreview(grey, 4, 4, (jpeg) => sent.push(jpeg), 0);
    eager.show(new Float32Array(16));
    expect(eager.due()).toBe(true);
    await vi.waitFor(() => expect(sent).toHaveLength(2));
    expect(sent.every((jpeg) => jpeg[0] === 0xff && jpeg[1] === 0xd8)).toBe(true);
  });
});
