// The shared registry of socket types: names, colours and the connection rule.
// Imported by the browser client as well as the server: no Node or server imports here.
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
