// The demo model's shared design: its latent space and the layout of its text embeddings.

/**
 * Latent channels 0–2 are an orthonormal colour basis (luminance, two opponent axes) of the 4×4-averaged
 * RGB in −1…1, times LATENT_GAIN; channel 3 is unused. The gain makes the image strong relative to the
 * sampler's noise, so a designed (untrained) denoiser keeps img2img results close to the source.
 */
export const LATENT_GAIN = 16;
export const COLOUR_BASIS: readonly (readonly [number, number, number])[] = [
  [1 / Math.sqrt(3), 1 / Math.sqrt(3), 1 / Math.sqrt(3)],
  [1 / Math.sqrt(2), -1 / Math.sqrt(2), 0],
  [1 / Math.sqrt(6), 1 / Math.sqrt(6), -2 / Math.sqrt(6)],
];
/** vae config `scaling_factor`: raw VAE latents are the sampler's latents divided by this. */
export const VAE_SCALING_FACTOR = 8;
/**
 * 4, not SD's 8: no linear 4-channel code at 1/8 keeps fine texture (the sample clip's brickwork
 * reconstructs at ≈ 20 dB from 8×8 means, the least-squares optimum included); at 1/4 it is ≈ 25 dB.
 * The UNet's patchify stem halves the grid again, so attention runs at SD's query lengths (64², 32² at 512²).
 */
export const VAE_DOWN_FACTOR = 4;

/** Width of the text encoder's hidden states (`encoder_hidden_states` last dim). */
export const CONTEXT_DIM = 64;
export const MAX_TOKENS = 77;

/**
 * Embedding layout: dims 0–3 a colour shift in latent units (the cross-attention value), dims 4–6 mark
 * the token's kind (the cross-attention key), dims 8+ a per-token signature and the position code.
 */
export const EMBEDDING = { colour: 0, sink: 4, word: 5, end: 6, signature: 8 } as const;

/**
 * Colour value per unit RGB shift. A colour word gets ≈ 5% of a pixel's attention next to the BOS sink,
 * the sampler integrates the pull over the steps and multiplies it by the CFG scale; this makes one
 * colour word at cfg ≈ 7 and denoise ≈ 0.5 move the image a clearly visible part of the way.
 */
export const COLOUR_VALUE_GAIN = 1.5;

/** The latent vector (4 channels) of an RGB shift in −1…1 units. */
export function latentOfRgb(rgb: readonly [number, number, number]): number[] {
  return [...COLOUR_BASIS.map((row) => LATENT_GAIN * (row[0] * rgb[0] + row[1] * rgb[1] + row[2] * rgb[2])), 0];
}
