// The values the model sockets carry (MODEL, CLIP, VAE, CONDITIONING, LATENT). Plain data: models are
// descriptions (files, device, detected signatures); sessions live in the session cache.
import type { MaskBatch } from '../masks/mask-batch.ts';
import type { BiasInput } from '../onnx/cross-attention-patch.ts';
import type { TextEncoderSignature, UNetSignature, VaeDecoderSignature, VaeEncoderSignature } from './contract.ts';
import type { SchedulerConfig } from './schedule.ts';
import type { Device, Provider } from './sessions.ts';
import type { WordTokens } from './tokenizer.ts';
import type { FrameAxis } from '../frame-axis.ts';
import type { Sd3TextEncoders } from './families/sd3-values.ts';
import type { FlowMatchConfig } from './flow-matching.ts';

/** The model family, from the folder (model_index.json `_class_name`, else the parts present). */
export type ModelFamily = 'sd' | 'sdxl' | 'sd3';

/**
 * Where the source images lie in padded frames: VAEEncode pads at the right and bottom to a size the
 * model takes, masks map onto the padded latent grid by it, and VAEDecode crops back.
 */
export interface LatentPadding {
  /** The source images' size in pixels. */
  readonly imageWidth: number;
  readonly imageHeight: number;
  /** The padded images' size in pixels (the latent grid × the VAE's down-factor). */
  readonly paddedWidth: number;
  readonly paddedHeight: number;
}

/** Latent frames in the sampler's space (the VAE latents × scaling_factor), channels × height × width each. */
export interface LatentBatch {
  readonly channels: number;
  readonly width: number;
  readonly height: number;
  /** Set when the encoded images were padded to fit the model. */
  readonly padding?: LatentPadding;
  /** Frames per second of the source clip (0 for stills). */
  readonly fps: number;
  readonly frames: readonly Float32Array[];
  /** Set on a chunk of a streamed clip: which of the clip's frames these are (server/frame-axis.ts). */
  readonly axis?: FrameAxis;
}

/** A prompt's text-encoder output, with where each word's tokens are. */
export interface Conditioning {
  readonly text: string;
  readonly ids: Int32Array;
  readonly words: readonly WordTokens[];
  /** The prompt had more tokens than fit; the rest was cut off. */
  readonly truncated: boolean;
  readonly sequenceLength: number;
  readonly hiddenSize: number;
  /** sequenceLength × hiddenSize. */
  readonly embeddings: Float32Array;
  /** The empty prompt's embeddings: the unconditional half of CFG when no negative is connected. */
  readonly emptyPrompt: Float32Array;
  /**
   * The pooled embedding of the prompt and of the empty prompt: SDXL's second encoder's `text_embeds`
   * (the empty prompt's zeros); SD3's both CLIPs' `text_embeds` side by side (the empty prompt encoded).
   */
  readonly pooled?: Float32Array;
  readonly emptyPooled?: Float32Array;
}

/** One InjectCrossAttention node's mask on a MODEL. */
export interface AttentionMask {
  /** The InjectCrossAttention node it came from: errors about the mask or the words name that node. */
  readonly nodeId: string;
  /** One mask for every frame, or one per frame. */
  readonly masks: MaskBatch;
  readonly weight: number;
  /** Lower-case prompt words whose attention follows the mask; empty = the whole prompt. */
  readonly words: readonly string[];
}

/**
 * Attention masks on a MODEL, as plain data (measured by the memory cache, structured-clone-able): the
 * bias feeds are built from them when sampling runs (attention-feeds.ts).
 */
export interface AttentionInjection {
  /** The unpatched UNet, which runs again when the weights drop to 0. */
  readonly sourceFile: string;
  /** The patched graph (the model's unetFile) is identified by the source's content hash and the surgery version. */
  readonly sourceHash: string;
  readonly surgeryVersion: number;
  /** The patched graph's bias inputs. */
  readonly biasInputs: readonly BiasInput[];
  /** In chain order; their biases add. */
  readonly masks: readonly AttentionMask[];
}

export interface DiffusionModel {
  readonly kind: 'diffusion-model';
  readonly family: ModelFamily;
  /** Model folder name, for messages. */
  readonly name: string;
  readonly folder: string;
  /** The UNet graph to run (attention injection points this at a patched copy). */
  readonly unetFile: string;
  readonly device: Device;
  readonly provider: Provider;
  readonly unet: UNetSignature;
  readonly scheduler: SchedulerConfig;
  readonly latentChannels: number;
  /** Latent sides the UNet can take are multiples of this (its fixed ×2 down and up steps); VAEEncode pads to it. */
  readonly latentMultiple: number;
  /** Image pixels per latent pixel: SDXL's micro-conditioning (`time_ids`) gives sizes in pixels. */
  readonly vaeDownFactor: number;
  readonly attention?: AttentionInjection;
  /** SD3: the FlowMatchEulerDiscrete scheduler config; the Sampler then samples by flow matching. */
  readonly flow?: FlowMatchConfig;
  /** SD3: pooled_projections' width. */
  readonly pooledDim?: number;
  /** The VAE of the same folder: the Sampler's live previews are fitted to its decoder (when someone watches). */
  readonly previewVae?: VaeModel;
}

export interface ClipModel {
  readonly kind: 'clip';
  readonly family: ModelFamily;
  readonly name: string;
  readonly textEncoderFile: string;
  readonly tokenizerDir: string;
  readonly device: Device;
  readonly signature: TextEncoderSignature;
  /** SDXL's text_encoder_2 (with projection) and tokenizer_2. */
  readonly second?: SecondTextEncoder;
  /** SD3: the second CLIP, the optional T5 and the context width (textEncoderFile is the first CLIP). */
  readonly sd3?: Sd3TextEncoders;
}

export interface SecondTextEncoder {
  readonly textEncoderFile: string;
  readonly tokenizerDir: string;
  readonly signature: TextEncoderSignature;
}

export interface VaeModel {
  readonly kind: 'vae';
  readonly family: ModelFamily;
  readonly name: string;
  readonly encoderFile?: string;
  readonly decoderFile: string;
  readonly device: Device;
  readonly encoder?: VaeEncoderSignature;
  readonly decoder: VaeDecoderSignature;
  readonly scalingFactor: number;
  /** Subtracted before scaling on encode, added back on decode (SD3: 0.0609; 0 for SD 1.x/2.x). */
  readonly shiftFactor: number;
  /** Image pixels per latent pixel: 2^(len(block_out_channels) − 1). */
  readonly downFactor: number;
  readonly latentChannels: number;
  /** The same folder's UNet takes latent sides that are multiples of this: VAEEncode pads images to downFactor × latentMultiple. */
  readonly latentMultiple: number;
}
