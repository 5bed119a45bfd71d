// Attaches an attention mask to a MODEL: points it at the patched UNet and records the mask as plain data
// (server/runtime/attention-feeds.ts turns it into bias feeds when sampling runs). The surgery is done once
// per UNet file (cached on disk); masks and weights only change what is fed, so the session is reused.
import type { AttentionMask, DiffusionModel } from '../runtime/model-values.ts';
import { ensurePatchedModel } from './patched-model.ts';

export function parseWords(words: string): string[] {
  return words
    .toLowerCase()
    .split(/[\s,]+/)
    .map((w) => w.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, ''))
    .filter((w) => w.length > 0);
}

/**
 * The model with one more attention mask. Masks chain: each node's bias adds to the previous ones
 * (sum of logs = product of factors). With every weight at 0 the unpatched UNet runs, bit-identical.
 */
export async function injectAttention(model: DiffusionModel, mask: AttentionMask, cacheDir: string): Promise<DiffusionModel> {
  const sourceFile = model.attention?.sourceFile ?? model.unetFile;
  const masks = [...(model.attention?.masks ?? []), mask].filter((m) => m.weight > 0);
  if (masks.length === 0) return { ...model, unetFile: sourceFile, attention: undefined };
  const patched = await ensurePatchedModel(sourceFile, cacheDir);
  const { sourceHash, surgeryVersion, biasInputs } = patched;
  return { ...model, unetFile: patched.path, attention: { sourceFile, sourceHash, surgeryVersion, biasInputs, masks } };
}
