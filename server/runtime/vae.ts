// IMAGE ↔ LATENT through the VAE parts, a few frames per session run. Latents are kept in the sampler's
// space ((VAE latents − shift_factor) × scaling_factor); an 8-channel encoder output (mean ‖ logvar) contributes its mean.
// Images of any size are padded to a size the model takes and the decoded frames cropped back.
import { stopIfAborted } from './before-run.ts';
import { sessions } from './sessions.ts';
import { cropImages, padFrame, paddingFor } from './latent-padding.ts';
import { floatTensor, readFloats } from './tensors.ts';
import type { LatentBatch, VaeModel } from './model-values.ts';
import type { ImageBatch } from '../media/image-batch.ts';

export interface VaeProgress {
  /** Called after each batch with the number of frames done; may throw to stop. */
  (done: number, total: number): void;
}

function imageToPlanar(rgb: Uint8Array, pixels: number, out: Float32Array, offset: number): void {
  for (let p = 0; p < pixels; p++) {
    out[offset + p] = rgb[3 * p] / 127.5 - 1;
    out[offset + pixels + p] = rgb[3 * p + 1] / 127.5 - 1;
    out[offset + 2 * pixels + p] = rgb[3 * p + 2] / 127.5 - 1;
  }
}

function planarToImage(values: Float32Array, offset: number, pixels: number): Uint8Array {
  const rgb = new Uint8Array(3 * pixels);
  for (let c = 0; c < 3; c++) {
    for (let p = 0; p < pixels; p++) {
      const v = Math.round((values[offset + c * pixels + p] + 1) * 127.5);
      rgb[3 * p + c] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return rgb;
}

/** `signal` is checked before every VAE call: once aborted, no further call starts. */
export async function encodeImages(vae: VaeModel, images: ImageBatch, batchSize: number, progress?: VaeProgress, signal?: AbortSignal): Promise<LatentBatch> {
  if (!vae.encoderFile || !vae.encoder) throw new Error(`model "${vae.name}" has no vae_encoder/model.onnx, so it cannot encode images`);
  const padding = paddingFor(images.width, images.height, vae.downFactor, vae.latentMultiple);
  const [width, height] = padding ? [padding.paddedWidth, padding.paddedHeight] : [images.width, images.height];
  const pixels = width * height;
  const lease = await sessions.acquire(vae.encoderFile, vae.device);
  const frames: Float32Array[] = [];
  let latentWidth = 0;
  let latentHeight = 0;
  try {
    for (let start = 0; start < images.frames.length; start += batchSize) {
      const batch = images.frames.slice(start, start + batchSize);
      const input = new Float32Array(batch.length * 3 * pixels);
      batch.forEach((frame, i) => imageToPlanar(padding ? padFrame(frame, padding) : frame, pixels, input, i * 3 * pixels));
      await stopIfAborted(signal);
      const result = await lease.session.run({ sample: floatTensor(vae.encoder.floatType, input, [batch.length, 3, height, width]) });
      const output = result[vae.encoder.output];
      const [, channels, h, w] = output.dims.map(Number);
      const kept = channels === 2 * vae.latentChannels ? vae.latentChannels : channels;
      const values = readFloats(output);
      latentHeight = h;
      latentWidth = w;
      for (let i = 0; i < batch.length; i++) {
        const frameValues = values.subarray(i * channels * h * w, (i * channels + kept) * h * w);
        frames.push(frameValues.map((v) => (v - vae.shiftFactor) * vae.scalingFactor));
      }
      progress?.(frames.length, images.frames.length);
    }
  } finally {
    lease.release();
  }
  return { channels: vae.latentChannels, width: latentWidth, height: latentHeight, fps: images.fps, frames, ...(padding && { padding }), ...(images.axis && { axis: images.axis }) };
}

export async function decodeLatents(vae: VaeModel, latents: LatentBatch, batchSize: number, progress?: VaeProgress, signal?: AbortSignal): Promise<ImageBatch> {
  const { channels, width, height } = latents;
  const size = channels * width * height;
  const lease = await sessions.acquire(vae.decoderFile, vae.device);
  const frames: Uint8Array[] = [];
  let imageWidth = 0;
  let imageHeight = 0;
  try {
    for (let start = 0; start < latents.frames.length; start += batchSize) {
      const batch = latents.frames.slice(start, start + batchSize);
      const input = new Float32Array(batch.length * size);
      batch.forEach((frame, i) => {
        for (let j = 0; j < size; j++) input[i * size + j] = frame[j] / vae.scalingFactor + vae.shiftFactor;
      });
      await stopIfAborted(signal);
      const result = await lease.session.run({ latent_sample: floatTensor(vae.decoder.floatType, input, [batch.length, channels, height, width]) });
      const output = result.sample;
      const [, , h, w] = output.dims.map(Number);
      const values = readFloats(output);
      imageHeight = h;
      imageWidth = w;
      for (let i = 0; i < batch.length; i++) frames.push(planarToImage(values, i * 3 * h * w, h * w));
      progress?.(frames.length, latents.frames.length);
    }
  } finally {
    lease.release();
  }
  const decoded = { width: imageWidth, height: imageHeight, fps: latents.fps, frames, ...(latents.axis && { axis: latents.axis }) };
  return latents.padding ? cropImages(decoded, latents.padding) : decoded;
}
