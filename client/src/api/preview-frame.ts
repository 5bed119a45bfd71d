// Reading ComfyUI's binary WebSocket frames (previews while a node runs): a 4-byte big-endian event type;
//   1 (PREVIEW_IMAGE):               4-byte image format (1 = JPEG, 2 = PNG), then the image;
//   4 (PREVIEW_IMAGE_WITH_METADATA): 4-byte JSON length, JSON {node_id, prompt_id, image_type, …}, then the image.
// Other event types are ignored, as ComfyUI's frontend does.

export interface PreviewFrame {
  /** The node the preview belongs to; null for type 1 frames (then it is the running node). */
  nodeId: string | null;
  promptId: string | null;
  mime: string;
  image: Uint8Array;
}

const FORMAT_MIME: Record<number, string> = { 1: 'image/jpeg', 2: 'image/png' };

export function parsePreviewFrame(buffer: ArrayBuffer): PreviewFrame | null {
  if (buffer.byteLength < 8) return null;
  const view = new DataView(buffer);
  const type = view.getUint32(0);
  if (type === 1) {
    const mime = FORMAT_MIME[view.getUint32(4)];
    return mime ? { nodeId: null, promptId: null, mime, image: new Uint8Array(buffer, 8) } : null;
  }
  if (type !== 4) return null;
  const length = view.getUint32(4);
  if (8 + length > buffer.byteLength) return null;
  let metadata: { node_id?: unknown; display_node_id?: unknown; prompt_id?: unknown; image_type?: unknown };
  try {
    metadata = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 8, length)));
  } catch {
    return null;
  }
  const node = metadata.display_node_id ?? metadata.node_id;
  return {
    nodeId: typeof node === 'string' || typeof node === 'number' ? String(node) : null,
    promptId: typeof metadata.prompt_id === 'string' ? metadata.prompt_id : null,
    mime: typeof metadata.image_type === 'string' ? metadata.image_type : 'image/jpeg',
    image: new Uint8Array(buffer, 8 + length),
  };
}
