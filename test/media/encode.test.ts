import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import Encode from '../../nodes/Encode.ts';
import PreviewImage, { spreadIndices } from '../../nodes/PreviewImage.ts';
import type { OutputFileRef } from '../../server/media/output-files.ts';
import { probeVideo } from '../../server/media/probe.ts';
import { readEmbeddedGraph } from '../../server/media/workflow-metadata.ts';
import { decodeVideo, KEEP_ALL } from '../../server/media/video-decode.ts';
import { makeContext, type TestContext } from '../helpers/context.ts';
import { frameNumber, lavfiClip, meanAbsDifference, numberedFrames } from './clips.ts';
import type { ImageBatch } from '../../server/media/image-batch.ts';
import { NodeInputError } from '../../server/errors.ts';

const DEFAULTS: Omit<Parameters<typeof Encode.execute>[0], 'images' | 'metrics'> = { fps: 0, format: 'mp4-h264', crf: 19, filename_prefix: 'limelight/video' };

async function encode(ctx: TestContext, images: ImageBatch, options: Partial<typeof DEFAULTS> = {}) {
  const result = await Encode.execute({ images, ...DEFAULTS, ...options }, ctx);
  const ui = result.ui as { videos?: OutputFileRef[]; images?: OutputFileRef[] };
  const refs = ui.videos ?? ui.images!;
  return { ui, refs, files: refs.map((ref) => path.join(ctx.folders.output, ref.subfolder, ref.filename)) };
}

/** A JSON workflow of about `bytes` characters, with non-ASCII text and characters FFMETADATA would need escaped. */
function workflowOfSize(bytes: number) {
  const nodes = [];
  for (let id = 1, length = 0; length < bytes; id++) {
    const node = { id, type: 'Text', widgets_values: { text: `Ein Ball über der Mauer — 球 #${id}; a=b \\ "q"\n` } };
    nodes.push(node);
    length += JSON.stringify(node).length + 1;
  }
  return { last_node_id: nodes.length, nodes, links: [], version: 0.4 };
}

describe('Encode', () => {
  it('round-trips frames through mp4: count, size, fps and content', async () => {
    const ctx = makeContext();
    const source = await lavfiClip(ctx.folders.input, 'clip.mp4', 'testsrc=size=96x64:rate=12', ['-frames:v', '24', '-pix_fmt', 'yuv420p']);
    const images = await decodeVideo(source, KEEP_ALL);
    const { ui, files } = await encode(ctx, images);
    expect(ui.videos).toEqual([{ filename: 'video_00001.mp4', subfolder: 'limelight', type: 'output' }]);
    const back = await decodeVideo(files[0]!, KEEP_ALL);
    expect([back.width, back.height, back.fps, back.frames.length]).toEqual([96, 64, 12, 24]);
    expect(meanAbsDifference(back.frames[10]!, images.frames[10]!)).toBeLessThan(3);
    expect(ctx.progressCalls.at(-1)).toMatchObject({ value: 24, max: 24, detail: { label: 'encoding' } });
  });

  it('never overwrites: the counter moves on', async () => {
    const ctx = makeContext();
    const images = numberedFrames(3);
    await encode(ctx, images);
    const second = await encode(ctx, images);
    expect(second.refs[0]!.filename).toBe('video_00002.mp4');
  });

  it('writes webm (VP9), gif and png sequences with the matching UI payload', async () => {
    const ctx = makeContext();
    const images = numberedFrames(6);
    const webm = await encode(ctx, images, { format: 'webm-vp9', crf: 30, filename_prefix: 'clip' });
    expect(webm.ui.videos![0]!.filename).toBe('clip_00001.webm');
    expect((await decodeVideo(webm.files[0]!, KEEP_ALL)).frames.map(frameNumber)).toEqual([0, 1, 2, 3, 4, 5]);

    const gif = await encode(ctx, images, { format: 'gif', fps: 4, filename_prefix: 'clip' });
    expect(gif.ui.images![0]!.filename).toBe('clip_00002.gif');
    expect((await probeVideo(gif.files[0]!)).fps).toBe(4);

    const pngs = await encode(ctx, images, { format: 'png-sequence', filename_prefix: 'clip' });
    expect(pngs.refs.map((r) => r.filename)).toEqual([1, 2, 3, 4, 5, 6].map((n) => `clip_00003_0000${n}.png`));
    expect(pngs.files.every((f) => existsSync(f))).toBe(true);
  });

  it('pads odd sizes by a pixel for H.264 instead of failing', async () => {
    const ctx = makeContext();
    const { files } = await encode(ctx, numberedFrames(2, 33, 17));
    const back = await decodeVideo(files[0]!, KEEP_ALL);
    expect([back.width, back.height]).toEqual([34, 18]);
  });

  it('when interrupted, stops ffmpeg and leaves no half-written file', async () => {
    const ctx = makeContext();
    const progress = ctx.progress.bind(ctx);
    ctx.progress = (value, max, detail) => {
      if (value === 3) ctx.abort();
      progress(value, max, detail);
    };
    await expect(encode(ctx, numberedFrames(20))).rejects.toThrow();
    expect(readdirSync(path.join(ctx.folders.output, 'limelight'))).toEqual([]);
  });

  it('rejects a crf the format does not accept and a prefix that leaves the output folder', async () => {
    const ctx = makeContext();
    const crf = await encode(ctx, numberedFrames(2), { crf: 60 }).catch((e: unknown) => e);
    expect(crf).toBeInstanceOf(NodeInputError);
    expect(crf).toMatchObject({ inputName: 'crf', message: expect.stringMatching(/above 51/) });
    const prefix = await encode(ctx, numberedFrames(2), { filename_prefix: '../escape' }).catch((e: unknown) => e);
    expect(prefix).toMatchObject({ inputName: 'filename_prefix', message: expect.stringMatching(/leaves the output folder/) });
  });

  describe('embeds the workflow and prompt, read back by the drag-drop reader', () => {
    for (const size of [10_000, 200_000]) {
      for (const format of ['mp4-h264', 'webm-vp9', 'png-sequence'] as const) {
        it(`${format}, ${size / 1000} KB workflow`, async () => {
          const workflow = workflowOfSize(size);
          const prompt = { '1': { class_type: 'Text', inputs: { text: 'über' } } };
          const ctx = makeContext({ extraData: { workflow, prompt } });
          const { files } = await encode(ctx, numberedFrames(2), { format });
          expect(await readEmbeddedGraph(files[0]!)).toEqual({ workflow, prompt });
          const sidecar = files[0]!.replace(/(_\d{5})?\.png$|\.(mp4|webm)$/, '.json');
          expect(JSON.parse(readFileSync(sidecar, 'utf8'))).toEqual(workflow);
        });
      }
    }

    it('gif has no metadata field: the reader falls back to the sidecar', async () => {
      const workflow = workflowOfSize(1000);
      const ctx = makeContext({ extraData: { workflow } });
      const { files } = await encode(ctx, numberedFrames(2), { format: 'gif' });
      expect(await readEmbeddedGraph(files[0]!)).toEqual({ workflow });
    });

    it('connected metrics go into the workflow\'s extra, in the sidecar and the embedded workflow', async () => {
      const workflow = { ...workflowOfSize(1000), extra: { ds: { scale: 1 } } };
      const metrics = { flicker_inside: 1.2, flicker_outside: null, leak_outside: 0.03, score: 71.5, frames: 2 };
      const ctx = makeContext({ extraData: { workflow } });
      const result = await Encode.execute({ images: numberedFrames(2), ...DEFAULTS, metrics }, ctx);
      const file = path.join(ctx.folders.output, (result.ui as { videos: OutputFileRef[] }).videos[0]!.subfolder, 'video_00001.mp4');
      const stamped = { ...workflow, extra: { ds: { scale: 1 }, limelight_stability: metrics } };
      expect(JSON.parse(readFileSync(file.replace(/\.mp4$/, '.json'), 'utf8'))).toEqual(stamped);
      expect((await readEmbeddedGraph(file)).workflow).toEqual(stamped);
      expect(workflow.extra).toEqual({ ds: { scale: 1 } }); // the run's workflow is not changed
    });

    it('metrics of a run without a workflow sit beside the prompt in the POST /prompt body shape', async () => {
      const prompt = { '1': { class_type: 'Text', inputs: { text: 'x' } } };
      const metrics = { score: 80, frames: 2 };
      const ctx = makeContext({ extraData: { prompt } });
      const { files } = await encode(ctx, numberedFrames(2), { format: 'gif' });
      await Encode.execute({ images: numberedFrames(2), ...DEFAULTS, format: 'gif', metrics }, ctx);
      const second = files[0]!.replace('_00001.gif', '_00002.gif');
      expect(JSON.parse(readFileSync(second.replace(/\.gif$/, '.json'), 'utf8'))).toEqual({ prompt, extra_data: { limelight_stability: metrics } });
      expect(await readEmbeddedGraph(second)).toEqual({ prompt }); // gif: read from the sidecar
      expect(await readEmbeddedGraph(files[0]!)).toEqual({ prompt }); // without metrics the sidecar is the bare prompt
    });

    it('a file without any embedded graph reads as empty', async () => {
      const ctx = makeContext();
      const { files } = await encode(ctx, numberedFrames(2));
      expect(await readEmbeddedGraph(files[0]!)).toEqual({});
    });
  });
});

describe('PreviewImage', () => {
  it('spreads the previewed frames evenly over the clip, first and last included', () => {
    expect(spreadIndices(3, 8)).toEqual([0, 1, 2]);
    expect(spreadIndices(10, 4)).toEqual([0, 3, 6, 9]);
    expect(spreadIndices(10, 1)).toEqual([0]);
  });

  it('writes small PNGs to the temp folder', async () => {
    const ctx = makeContext();
    const result = await PreviewImage.execute({ images: numberedFrames(10, 1024, 16), max_frames: 3 }, ctx);
    const refs = (result.ui as { images: OutputFileRef[] }).images;
    expect(refs.map((r) => r.type)).toEqual(['temp', 'temp', 'temp']);
    const file = path.join(ctx.folders.temp, refs[2]!.subfolder, refs[2]!.filename);
    const png = readFileSync(file);
    expect(png.readUInt32BE(16)).toBe(512); // IHDR width: scaled down to the preview size
  });
});
