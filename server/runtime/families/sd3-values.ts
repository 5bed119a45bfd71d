// What an SD3 CLIP value carries besides the first CLIP (plain data, like the other model values).

export interface Sd3TextEncoder {
  readonly file: string;
  readonly tokenizerDir: string;
  readonly idsType: 'int32' | 'int64';
  /** The output holding the prompt embedding: CLIPs' penultimate `hidden_states.{L−1}`, T5's `last_hidden_state`. */
  readonly hiddenOutput: string;
}

export interface Sd3TextEncoders {
  /** The first CLIP's penultimate hidden state (its file is ClipModel.textEncoderFile). */
  readonly clipLHiddenOutput: string;
  /** text_encoder_2 (CLIP-G, with projection) and tokenizer_2. */
  readonly clipG: Sd3TextEncoder;
  /** text_encoder_3 (T5) and tokenizer_3; absent: the T5 part of the context is zeros, as diffusers does. */
  readonly t5?: Sd3TextEncoder;
  /** encoder_hidden_states' width (joint_attention_dim, 4096): the CLIP part is zero-padded to it. */
  readonly contextDim: number;
  /** T5 tokens appended after the 77 CLIP tokens (256 by default). */
  readonly t5Length: number;
}
