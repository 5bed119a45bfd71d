import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import LoadVideo from '../../nodes/LoadVideo.ts';
import { fileFingerprint } from '../../server/file-identity.ts';
import { runTool } from '../../server/media/tool-process.ts';
import { decodeVideo, KEEP_ALL, openVideoReader, TooManyFramesError } from '../../server/media/video-decode.ts';
import { makeContext, type TestContext } from '../helpers/context.ts';
import { frameNumber, lavfiClip, numberedClip } from './clips.ts';
import type { ImageBatch } from '../../server/media/image-batch.ts';
import { NodeInputError } from '../../server/errors.ts';

const DEFAULTS = { frame_load_cap: 0, skip_first_frames: 0, select_every_nth: 1, force_rate: 0, width: 0, height: 0 };

async function load(ctx: TestContext, video: string, options: Partial<typeof DEFAULTS> = {}) {
  const result = await LoadVideo.execute({ video, ...DEFAULTS, ...options }, ctx);
  const [images, frameCount, fps] = result.outputs as [ImageBatch, number, number];
  return { images, frameCount, fps };
}

async function loadError(ctx: TestContext, video: string, options: Partial<typeof DEFAULTS> = {}): Promise<NodeInputError> {
  const error = await load(ctx, video, options).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(NodeInputError);
  return error as NodeInputError;
}

describe('LoadVideo', () => {
  it('decodes every frame at the source size and rate, reporting progress per frame', async () => {
    const ctx = makeContext();
    await lavfiClip(ctx.folders.input, 'clip.mp4', 'testsrc=size=96x64:rate=12', ['-frames:v', '24', '-pix_fmt', 'yuv420p']);
    const { images, frameCount, fps } = await load(ctx, 'clip.mp4');
    expect([images.width, images.height, frameCount, fps]).toEqual([96, 64, 24, 12]);
    expect(images.frames.every((f) => f.length === 96 * 64 * 3)).toBe(true);
    expect(ctx.progressCalls.map((c) => c.value)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    expect(ctx.progressCalls.at(-1)).toMatchObject({ max: 24, detail: { frame: 24, frames: 24 } });
  });

  it('a reader that decodes ahead gives the same frames in order, reads to the end, and closes while decoding', async () => {
    const ctx = makeContext();
    await numberedClip(ctx.folders.input, 'numbered.mp4', 20);
    const file = path.join(ctx.folders.input, 'numbered.mp4');
    const reader = await openVideoReader(file, KEEP_ALL, { readAhead: true });
    const read = [...(await reader.read(3)), ...(await reader.read(10)), ...(await reader.read(100))];
    expect(read.map(frameNumber)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect([reader.position, (await reader.read(1)).length]).toEqual([20, 0]);
    await reader.close();
    const early = await openVideoReader(file, KEEP_ALL, { readAhead: true });
    expect((await early.read(2)).map(frameNumber)).toEqual([0, 1]);
    await early.close(); // frames still decoding ahead: closing stops them without an unhandled error
  });

  it('applies skip_first_frames, then select_every_nth, then frame_load_cap, and divides the fps', async () => {
    const ctx = makeContext();
    await numberedClip(ctx.folders.input, 'numbered.mp4', 20);
    const { images, fps } = await load(ctx, 'numbered.mp4', { skip_first_frames: 3, select_every_nth: 2, frame_load_cap: 4 });
    expect(images.frames.map(frameNumber)).toEqual([3, 5, 7, 9]);
    expect(fps).toBe(6);
    const all = await load(ctx, 'numbered.mp4');
    expect(all.images.frames.map(frameNumber)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('resamples to force_rate', async () => {
    const ctx = makeContext();
    await numberedClip(ctx.folders.input, 'numbered.mp4', 24);
    const { images, fps } = await load(ctx, 'numbered.mp4', { force_rate: 6 });
    expect(fps).toBe(6);
    expect(images.frames.length).toBe(12);
    expect(images.frames.map(frameNumber)).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22]);
  });

  it('resizes to multiples of 8, keeping the aspect ratio when one side is 0, and says on the node when it rounded', async () => {
    const ctx = makeContext();
    await lavfiClip(ctx.folders.input, 'clip.mp4', 'testsrc=size=96x64:rate=12', ['-frames:v', '2', '-pix_fmt', 'yuv420p']);
    const result = await LoadVideo.execute({ video: 'clip.mp4', ...DEFAULTS, width: 50 }, ctx);
    const images = result.outputs[0] as ImageBatch;
    expect([images.width, images.height]).toEqual([48, 32]);
    expect(images.frames[0]!.length).toBe(48 * 32 * 3);
    const note = "resized to 48×32, not 50×33.3 (the 96×64 clip's aspect ratio): resized sides are rounded to multiples of 8";
    expect(result.ui?.text).toEqual([note]);
    expect(ctx.warnings).toEqual([note]);
    // A size that needs no rounding says nothing.
    expect((await LoadVideo.execute({ video: 'clip.mp4', ...DEFAULTS, width: 48 }, ctx)).ui).toBeUndefined();
  });

  it('keeps odd sizes, applies rotation metadata, and ignores audio', async () => {
    const ctx = makeContext();
    await lavfiClip(ctx.folders.input, 'odd.mkv', 'testsrc=size=97x61:rate=10', ['-frames:v', '3', '-c:v', 'ffv1']);
    expect((await load(ctx, 'odd.mkv')).images).toMatchObject({ width: 97, height: 61 });

    const upright = await lavfiClip(ctx.folders.input, 'upright.mp4', 'testsrc=size=64x48:rate=10', ['-frames:v', '3', '-pix_fmt', 'yuv420p']);
    await runTool('ffmpeg', ['-v', 'error', '-i', upright, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', '-y', path.join(ctx.folders.input, 'rotated.mp4')]);
    const rotated = await load(ctx, 'rotated.mp4');
    expect([rotated.images.width, rotated.images.height, rotated.frameCount]).toEqual([48, 64, 3]);

    await lavfiClip(ctx.folders.input, 'audio.mp4', 'testsrc=size=64x48:rate=10', [
      '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-frames:v', '5', '-pix_fmt', 'yuv420p', '-shortest',
    ]);
    expect((await load(ctx, 'audio.mp4')).frameCount).toBe(5);
  });

  it('resamples a variable-frame-rate clip to a constant rate and decodes 10-bit sources', async () => {
    const ctx = makeContext();
    // 10 frames 0.1 s apart, then 10 frames 0.3 s apart: 3.4 s at an average of 100/17 fps.
    await lavfiClip(ctx.folders.input, 'vfr.mp4', 'testsrc=size=64x48:rate=10', [
      '-frames:v', '20', '-vf', "setpts='if(lt(N,10),N,10+(N-10)*3)/(10*TB)'", '-vsync', 'vfr', '-pix_fmt', 'yuv420p',
    ]);
    const vfr = await load(ctx, 'vfr.mp4');
    expect(vfr.fps).toBeCloseTo(100 / 17, 5);
    expect(Math.abs(vfr.frameCount - 20)).toBeLessThanOrEqual(1);

    await lavfiClip(ctx.folders.input, 'deep.mov', 'testsrc=size=64x48:rate=10', ['-frames:v', '4', '-c:v', 'prores_ks', '-pix_fmt', 'yuv422p10le']);
    const deep = await load(ctx, 'deep.mov');
    expect([deep.images.width, deep.frameCount]).toEqual([64, 4]);
    expect(deep.images.frames[0]!.some((v) => v > 200)).toBe(true);
  });

  it('loads a one-frame clip', async () => {
    const ctx = makeContext();
    await lavfiClip(ctx.folders.input, 'one.mp4', 'testsrc=size=64x48:rate=10', ['-frames:v', '1', '-pix_fmt', 'yuv420p']);
    expect((await load(ctx, 'one.mp4')).frameCount).toBe(1);
  });

  it('reports truncated, non-video and missing files as input errors naming the file and the reason', async () => {
    const ctx = makeContext();
    const whole = await lavfiClip(ctx.folders.input, 'whole.mp4', 'testsrc=size=64x48:rate=10', ['-frames:v', '10', '-pix_fmt', 'yuv420p']);
    const bytes = readFileSync(whole);
    writeFileSync(path.join(ctx.folders.input, 'cut.mp4'), bytes.subarray(0, bytes.length / 2));
    const truncated = await loadError(ctx, 'cut.mp4');
    expect(truncated.inputName).toBe('video');
    expect(truncated.message).toContain('cut.mp4');
    expect(truncated.message).toMatch(/moov atom not found|Invalid data/);

    const streamable = await lavfiClip(ctx.folders.input, 'streamable.mp4', 'testsrc=size=64x48:rate=10', ['-frames:v', '30', '-pix_fmt', 'yuv420p', '-movflags', '+faststart']);
    const streamableBytes = readFileSync(streamable);
    writeFileSync(path.join(ctx.folders.input, 'cut-streamable.mp4'), streamableBytes.subarray(0, streamableBytes.length * 0.6));
    expect((await loadError(ctx, 'cut-streamable.mp4')).message).toMatch(/cut-streamable\.mp4 ends early: \d+ of 30 frames decoded \(ffmpeg: .*(partial file|Invalid data)/);

    writeFileSync(path.join(ctx.folders.input, 'notes.mp4'), 'not a video');
    expect((await loadError(ctx, 'notes.mp4')).message).toMatch(/notes\.mp4.*Invalid data/);

    const missing = await loadError(ctx, 'nowhere.mp4');
    expect(missing.message).toMatch(/not found in the input folder/);
    expect(LoadVideo.validate!({ video: 'nowhere.mp4' }, ctx)).toMatch(/not found/);
    expect(LoadVideo.validate!({ video: '../../etc/passwd' }, ctx)).toMatch(/not a file inside the input folder/);
  });

  it('skip_first_frames past the end is an input error, not an empty batch', async () => {
    const ctx = makeContext();
    await numberedClip(ctx.folders.input, 'numbered.mp4', 5);
    expect((await loadError(ctx, 'numbered.mp4', { skip_first_frames: 10 })).message).toMatch(/no frames decoded/);
  });

  it('stops ffmpeg when interrupted and leaves no process behind', async () => {
    const ctx = makeContext();
    await numberedClip(ctx.folders.input, 'numbered.mp4', 30);
    const interrupting = makeContext({ folders: ctx.folders });
    const progress = interrupting.progress.bind(interrupting);
    interrupting.progress = (value, max, detail) => {
      if (value === 3) interrupting.abort();
      progress(value, max, detail);
    };
    await expect(load(interrupting, 'numbered.mp4')).rejects.toThrow();
    expect(childProcesses()).not.toMatch(/ffmpeg/);
  });

  it('refuses to hold more frames than the memory budget allows', async () => {
    const ctx = makeContext();
    const file = await numberedClip(ctx.folders.input, 'numbered.mp4', 10);
    await expect(decodeVideo(file, KEEP_ALL, { maxBytes: 32 * 32 * 3 * 5 })).rejects.toThrow(TooManyFramesError);
    await expect(decodeVideo(file, { ...KEEP_ALL, frameLoadCap: 5 }, { maxBytes: 32 * 32 * 3 * 5 })).resolves.toMatchObject({ width: 32 });
  });

  it('fingerprints by content, so an edited file with the same name gets a new identity', async () => {
    const ctx = makeContext();
    const file = path.join(ctx.folders.input, 'clip.mp4');
    writeFileSync(file, 'one');
    const first = await LoadVideo.fingerprint!({ video: 'clip.mp4' }, ctx);
    expect(await fileFingerprint(file)).toBe(first);
    writeFileSync(file, 'two!');
    expect(await LoadVideo.fingerprint!({ video: 'clip.mp4' }, ctx)).not.toBe(first);
  });
});

function childProcesses(): string {
  try {
    return execFileSync('ps', ['-o', 'comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  } catch {
    return ''; // ps exits 1 when there are none
  }
}
