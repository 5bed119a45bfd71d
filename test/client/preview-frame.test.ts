// The editor reads the binary preview frames the server writes (ComfyUI's formats), and shows each on
// the node it belongs to, only for the run in progress.
import { describe, expect, it } from 'vitest';
import { parsePreviewFrame } from '../../client/src/api/preview-frame.ts';
import { RunState } from '../../client/src/model/run-state.ts';
import { previewImageFrame, previewWithMetadataFrame } from '../../server/api/preview-frames.ts';

const image = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]);
const arrayBuffer = (frame: Buffer) => frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength) as ArrayBuffer;

describe('preview frames', () => {
  it('reads a frame with metadata: node, prompt, type and the exact image bytes', () => {
    const frame = parsePreviewFrame(arrayBuffer(previewWithMetadataFrame({ promptId: 'p1', nodeId: '7', format: 'png', image })));
    expect(frame).toMatchObject({ nodeId: '7', promptId: 'p1', mime: 'image/png' });
    expect([...frame!.image]).toEqual([...image]);
  });

  it('reads a plain frame (no node: the running node is meant) and ignores unknown or cut-off frames', () => {
    const plain = parsePreviewFrame(arrayBuffer(previewImageFrame({ promptId: 'p1', nodeId: '7', format: 'jpeg', image })));
    expect(plain).toMatchObject({ nodeId: null, mime: 'image/jpeg' });
    expect([...plain!.image]).toEqual([...image]);
    const unknown = Buffer.alloc(12);
    unknown.writeUInt32BE(3, 0);
    expect(parsePreviewFrame(arrayBuffer(unknown))).toBeNull();
    const truncated = previewWithMetadataFrame({ promptId: 'p1', nodeId: '7', format: 'png', image }).subarray(0, 20);
    expect(parsePreviewFrame(arrayBuffer(truncated))).toBeNull();
    expect(parsePreviewFrame(new ArrayBuffer(3))).toBeNull();
  });

  it('puts previews on their node for the running prompt, replaces them, and forgets them when the next run starts', async () => {
    const state = new RunState();
    state.handle('execution_start', { prompt_id: 'p1' });
    state.handle('executing', { node: '5', prompt_id: 'p1' });
    expect(state.showPreview({ nodeId: null, promptId: null, mime: 'image/jpeg', image })).toBe(true);
    expect(state.livePreviews.get('5')?.type).toBe('image/jpeg');
    expect(state.showPreview({ nodeId: '7', promptId: 'other-prompt', mime: 'image/png', image })).toBe(false);
    expect(state.livePreviews.has('7')).toBe(false);
    state.showPreview({ nodeId: '5', promptId: 'p1', mime: 'image/png', image: Uint8Array.from([9]) });
    expect(new Uint8Array(await state.livePreviews.get('5')!.arrayBuffer())).toEqual(Uint8Array.from([9]));
    state.handle('execution_success', { prompt_id: 'p1' });
    expect(state.livePreviews.has('5')).toBe(true);
    // A preview encoded late, after its run ended, changes nothing (nor does one after another workflow was opened).
    expect(state.showPreview({ nodeId: '5', promptId: 'p1', mime: 'image/png', image })).toBe(false);
    expect(new Uint8Array(await state.livePreviews.get('5')!.arrayBuffer())).toEqual(Uint8Array.from([9]));
    state.handle('execution_start', { prompt_id: 'p2' });
    expect(state.livePreviews.size).toBe(0);
  });
});
