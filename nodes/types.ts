// The shared registry of socket types: names, colours and the connection rule.
// Imported by the browser client as well as the server, so it must stay free of runtime imports
// (type-only imports are erased and are fine).
import type { ClipModel, Conditioning, DiffusionModel, LatentBatch, VaeModel } from '../server/runtime/values.ts';

/** Socket types that carry data between nodes (ComfyUI names). */
export const SOCKET_TYPES = {
  IMAGE: { color: '#64B5F6', description: 'uint8 RGB frames with size, count and fps' },
  MASK: { color: '#81C784', description: 'float 0–1 masks, white = attend' },
  LATENT: { color: '#FF9CF9', description: 'latent frames in the model\'s latent space' },
  MODEL: { color: '#B39DDB', description: 'a diffusion UNet, possibly with attention injection' },
  CLIP: { color: '#FFD500', description: 'a text encoder with its tokenizer' },
  VAE: { color: '#FF6E6E', description: 'the image ↔ latent autoencoder' },
  CONDITIONING: { color: '#FFA931', description: 'text embeddings with token positions' },
  INT: { color: '#00BFA5', description: 'an integer' },
  FLOAT: { color: '#AAEE88', description: 'a number' },
  STRING: { color: '#F0E68C', description: 'text' },
  BOOLEAN: { color: '#C0A0FF', description: 'true or false' },
  METRICS: { color: '#E0E0E0', description: 'named measurements' },
} as const satisfies Record<string, { color: string; description: string }>;

export type SocketTypeName = keyof typeof SOCKET_TYPES;

/** Widget primitives: inputs that can be typed in on the node (and also driven by a link). */
export const WIDGET_TYPES = ['INT', 'FLOAT', 'STRING', 'BOOLEAN', 'COMBO'] as const;
export type WidgetTypeName = (typeof WIDGET_TYPES)[number];

export const WILDCARD = '*';
const FALLBACK_COLOR = '#A0A0A0';

export function socketColor(type: string): string {
  const first = type.split(',')[0]?.trim().toUpperCase() ?? '';
  return (SOCKET_TYPES as Record<string, { color: string }>)[first]?.color ?? FALLBACK_COLOR;
}

function typeSet(type: string): string[] {
  return type
    .split(',')
    .map((t) => t.trim().toUpperCase())
    .filter((t) => t.length > 0);
}

/**
 * Can an output of type `from` feed an input of type `to`? Case-insensitive; `*` (or an empty type)
 * matches anything; `A,B` lists match when the two lists share a member. COMBO inputs accept STRING.
 */
export function isTypeCompatible(from: string, to: string): boolean {
  const a = typeSet(from);
  const b = typeSet(to);
  if (a.length === 0 || b.length === 0 || a.includes(WILDCARD) || b.includes(WILDCARD)) return true;
  if (b.includes('COMBO') && a.includes('STRING')) return true;
  return a.some((t) => b.includes(t));
}

// ---- Values carried by the sockets ----

/** Video or still frames: interleaved uint8 RGB, one array per frame (4× smaller than float32). */
export interface ImageBatch {
  readonly width: number;
  readonly height: number;
  /** Frames per second of the source; 0 for stills. */
  readonly fps: number;
  readonly frames: readonly Uint8Array[];
  /** Per-frame alpha (0–255), when the source had transparency (PNG images); MaskFromImage can read it. */
  readonly alphas?: readonly Uint8Array[];
}

/** Masks: float 0–1, white (1) = attend here. One array per frame, width × height each. */
export interface MaskBatch {
  readonly width: number;
  readonly height: number;
  readonly masks: readonly Float32Array[];
}

/** Named measurements shown on a node, in the CLI and in the history; null where one does not apply (no mask). */
export type Metrics = Readonly<Record<string, number | string | null>>;

/**
 * The TypeScript type of the value carried by each socket type. Issues that add value types
 * (LATENT, MODEL, …) refine their entries here.
 */
export interface SocketValueMap {
  IMAGE: ImageBatch;
  MASK: MaskBatch;
  LATENT: LatentBatch;
  MODEL: DiffusionModel;
  CLIP: ClipModel;
  VAE: VaeModel;
  CONDITIONING: Conditioning;
  INT: number;
  FLOAT: number;
  STRING: string;
  BOOLEAN: boolean;
  METRICS: Metrics;
}
