// Binary preview frames: ComfyUI's type 1 (format + image) and type 4 (JSON metadata + image).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BINARY_EVENT, previewImageFrame, previewWithMetadataFrame } from '../../server/api/preview-frames.ts';
import { EventClient, holdPrompt, startTestServer, type TestServer } from '../helpers/api-server.ts';

const image = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);

/** Reads a frame the way ComfyUI's frontend does (src/scripts/api.ts). */
function parseFrame(frame: Buffer) {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const type = view.getUint32(0);
  if (type === BINARY_EVENT.PREVIEW_IMAGE) return { type, format: view.getUint32(4), image: [...frame.subarray(8)] };
  const length = view.getUint32(4);
  return { type, metadata: JSON.parse(frame.subarray(8, 8 + length).toString()), image: [...frame.subarray(8 + length)] };
}

describe('frame encoding', () => {
  it('writes type 1 with the format code, and type 4 with its metadata', () => {
    expect(parseFrame(previewImageFrame({ promptId: 'p', nodeId: '3', format: 'png', image }))).toEqual({ type: 1, format: 2, image: [...image] });
    expect(parseFrame(previewImageFrame({ promptId: 'p', nodeId: '3', format: 'jpeg', image })).format).toBe(1);
    const withMeta = parseFrame(previewWithMetadataFrame({ promptId: 'p', nodeId: '3', format: 'jpeg', image }));
    expect(withMeta).toMatchObject({ type: 4, metadata: { node_id: '3', prompt_id: 'p', image_type: 'image/jpeg' }, image: [...image] });
  });
});

describe('previews over the socket', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });

  afterAll(async () => {
    await server.close();
  });

  it('sends a running prompt’s preview to its client: type 4 to clients announcing metadata support, type 1 otherwise', async () => {
    const modern = await EventClient.connect(server.url, 'clientId=modern');
    modern.send({ type: 'feature_flags', data: { supports_preview_metadata: true } });
    const flags = await modern.waitFor((m) => m.type === 'feature_flags');
    expect(flags.data).toMatchObject({ supports_preview_metadata: true, max_upload_size: expect.any(Number) });
    const legacy = await EventClient.connect(server.url, 'clientId=legacy');
    const bystander = await EventClient.connect(server.url, 'clientId=bystander');
    await bystander.waitFor((m) => m.type === 'status');

    const res = await server.post('/prompt', { prompt: holdPrompt('preview'), client_id: 'modern' });
    const { prompt_id } = await res.json();
    await modern.waitFor((m) => m.type === 'progress' && m.data.prompt_id === prompt_id);
    server.worker.preview('an-earlier-prompt', '1', { format: 'png', image: Uint8Array.from([9]) });
    server.worker.preview(prompt_id, '1', { format: 'png', image });
    server.hub.sendPreview({ promptId: prompt_id, nodeId: '1', format: 'jpeg', image }, 'legacy');

    const [modernFrame] = await modern.waitForBinary(1);
    expect(parseFrame(modernFrame)).toMatchObject({ type: 4, metadata: { node_id: '1', prompt_id }, image: [...image] });
    const [legacyFrame] = await legacy.waitForBinary(1);
    expect(parseFrame(legacyFrame)).toEqual({ type: 1, format: 1, image: [...image] });

    const from = bystander.messages.length;
    await server.post('/interrupt', {});
    await modern.done(prompt_id);
    // The status broadcast after the run was sent after the previews: once it is here, a misrouted preview would be too.
    await bystander.waitFor((m) => m.type === 'status' && (m.data.status as { exec_info: { queue_remaining: number } }).exec_info.queue_remaining === 0, from);
    expect(bystander.binary).toEqual([]);
    for (const client of [modern, legacy, bystander]) await client.close();
  });

  it('a node calling ctx.preview reaches its client as binary frames, in order', async () => {
    const client = await EventClient.connect(server.url, 'clientId=engine-preview');
    const prompt = {
      '1': { class_type: 'TestSource', inputs: { start: 0, length: 2 } },
      '2': { class_type: 'TestSlow', inputs: { signal: ['1', 0], steps: 3 } },
      '3': { class_type: 'TestSum', inputs: { signal: ['2', 0] } },
    };
    const { prompt_id } = await (await server.post('/prompt', { prompt, client_id: 'engine-preview' })).json();
    const frames = await client.waitForBinary(3);
    expect(frames.map((f) => parseFrame(f))).toEqual([1, 2, 3].map((step) => ({ type: 1, format: 2, image: [step] })));
    await client.done(prompt_id);
    await client.close();
  });
});
