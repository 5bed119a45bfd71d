// Prompt → CONDITIONING: tokenize, run the text encoder on the prompt and the empty prompt together.
import { tokenizerFor } from './tokenizer.ts';
import { sessions } from './sessions.ts';
import { integerTensor, readFloats } from './tensors.ts';
import type { ClipModel, Conditioning } from './model-values.ts';
import { encodeSd3Prompt } from './families/sd3-text.ts';
import { encodeSdxlPrompt } from './families/sdxl.ts';

/** The prompt through the model family's text encoders. */
export async function encodePrompt(clip: ClipModel, text: string): Promise<Conditioning> {
  if (clip.sd3) return encodeSd3Prompt(clip, clip.sd3, text);
  if (clip.family === 'sdxl') return encodeSdxlPrompt(clip, text);
  const tokenizer = tokenizerFor(clip.tokenizerDir);
  const prompt = tokenizer.encode(text);
  const empty = tokenizer.encode('');
  const length = prompt.ids.length;
  const ids = new Int32Array(2 * length);
  ids.set(prompt.ids, 0);
  ids.set(empty.ids, length);
  const lease = await sessions.acquire(clip.textEncoderFile, clip.device);
  try {
    const result = await lease.session.run({ input_ids: integerTensor(clip.signature.idsType, ids, [2, length]) });
    const hidden = result.last_hidden_state;
    const hiddenSize = Number(hidden.dims[2]);
    const values = readFloats(hidden);
    return {
      text,
      ids: prompt.ids,
      words: prompt.words,
      truncated: prompt.truncated,
      sequenceLength: length,
      hiddenSize,
      embeddings: values.slice(0, length * hiddenSize),
      emptyPrompt: values.slice(length * hiddenSize, 2 * length * hiddenSize),
    };
  } finally {
    lease.release();
  }
}
