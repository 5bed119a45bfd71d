// ComfyUI's binary WebSocket frames for previews: a 4-byte big-endian event type, then
//   type 1 (PREVIEW_IMAGE):               4-byte image format (1 = JPEG, 2 = PNG), then the image;
//   type 4 (PREVIEW_IMAGE_WITH_METADATA): 4-byte JSON length, JSON {node_id, prompt_id, image_type, …}, then the image.
// Clients that announce `supports_preview_metadata` get type 4 (they can put the image on its node).

export const BINARY_EVENT = { PREVIEW_IMAGE: 1, PREVIEW_IMAGE_WITH_METADATA: 4 } as const;

export type PreviewFormat = 'jpeg' | 'png';

export interface Preview {
  promptId: string;
  nodeId: string;
  format: PreviewFormat;
  image: Uint8Array;
}

const FORMAT_CODE: Record<PreviewFormat, number> = { jpeg: 1, png: 2 };

export function previewImageFrame(preview: Preview): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(BINARY_EVENT.PREVIEW_IMAGE, 0);
  header.writeUInt32BE(FORMAT_CODE[preview.format], 4);
  return Buffer.concat([header, preview.image]);
}

export function previewWithMetadataFrame(preview: Preview): Buffer {
  const metadata = Buffer.from(
    JSON.stringify({
      node_id: preview.nodeId,
      display_node_id: preview.nodeId,
      real_node_id: preview.nodeId,
      parent_node_id: null,
      prompt_id: preview.promptId,
      image_type: `image/${preview.format}`,
    }),
  );
  const header = Buffer.alloc(8);
  header.writeUInt32BE(BINARY_EVENT.PREVIEW_IMAGE_WITH_METADATA, 0);
  header.writeUInt32BE(metadata.length, 4);
  return Buffer.concat([header, metadata, preview.image]);
}
