// The frame count known before decoding must be exactly what decoding yields, for every selection.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NodeInputError } from '../../server/errors.ts';
import LoadVideo from '../../nodes/LoadVideo.ts';
import { countVideoFrames } from '../../server/media/count-frames.ts';
import { probeVideo } from '../../server/media/probe.ts';
import { runTool } from '../../server/media/tool-process.ts';
import { decodeVideo, EndsEarlyError, KEEP_ALL, type FrameSelection } from '../../server/media/video-decode.ts';
import { makeContext } from '../helpers/context.ts';
import { lavfiClip, numberedClip } from './clips.ts';

const DEFAULTS = { frame_load_cap: 0, skip_first_frames: 0, select_every_nth: 1, force_rate: 0, width: 0, height: 0 };

const SELECTIONS: Partial<FrameSelection>[] = [
  {},
  { skipFirstFrames: 3 },
  { selectEveryNth: 4 },
  { skipFirstFrames: 5, selectEveryNth: 3, frameLoadCap: 4 },
  { forceRate: 7 },
  { forceRate: 29.97, frameLoadCap: 8 },
  { forceRate: 60, skipFirstFrames: 2, selectEveryNth: 2 },
  { skipFirstFrames: 1000 },
];

async function decodedCount(file: string, selection: FrameSelection): Promise<number> {
  try {
    return (await decodeVideo(file, selection)).frames.length;
  } catch (error) {
    if (/no frames decoded/.test((error as Error).message)) return 0;
    throw error;
  }
}

describe('countVideoFrames', () => {
  it('counts exactly what decoding yields, with skip, every-nth, cap and force_rate, on regular, trimmed, variable-rate and offset clips', async () => {
    const { folders } = makeContext();
    const dir = folders.input;
    const cfr = await numberedClip(dir, 'cfr.mp4', 20);
    const ntsc = await lavfiClip(dir, 'ntsc.mp4', 'testsrc=size=32x32:rate=30000/1001', ['-frames:v', '50', '-pix_fmt', 'yuv420p']);
    // Cut with stream copy: the edit list makes the demuxer discard the frames before the cut.
    const trimmed = path.join(dir, 'trimmed.mp4');
    await runTool('ffmpeg', ['-v', 'error', '-ss', '0.5', '-i', ntsc, '-c', 'copy', '-y', trimmed]);
    const vfr = await lavfiClip(dir, 'vfr.mp4', 'testsrc=size=32x32:rate=10', [
      '-frames:v', '20', '-vf', "setpts='if(lt(N,10),N,10+(N-10)*3)/(10*TB)'", '-vsync', 'vfr', '-pix_fmt', 'yuv420p',
    ]);
    // Video starting 0.37 s after the audio: decoding must not pad the start.
    const offset = path.join(dir, 'offset.mkv');
    await runTool('ffmpeg', ['-v', 'error', '-itsoffset', '0.37', '-i', cfr, '-f', 'lavfi', '-i', 'sine=duration=3', '-map', '0:v', '-map', '1:a', '-c:v', 'copy', '-c:a', 'aac', '-shortest', '-y', offset]);
    const gif = await lavfiClip(dir, 'anim.gif', 'testsrc=size=32x32:rate=10', ['-frames:v', '17']);

    const rows: string[] = [];
    for (const file of [cfr, ntsc, trimmed, vfr, offset, gif]) {
      for (const partial of SELECTIONS) {
        const selection = { ...KEEP_ALL, ...partial };
        const counted = await countVideoFrames(file, selection);
        const decoded = await decodedCount(file, selection);
        rows.push(`${path.basename(file)} ${JSON.stringify(partial)}: counted ${counted?.frames} decoded ${decoded}`);
        expect(counted, rows.at(-1)).not.toBeNull();
        expect(counted!.frames, rows.at(-1)).toBe(decoded);
        expect(counted!.promised).toBe(counted!.frames);
      }
    }
    // The trimmed clip really lost frames to the edit list, and the offset clip was not padded.
    expect(rows.find((r) => r.startsWith('trimmed.mp4 {}'))).toMatch(/counted (3[0-9]) decoded \1/);
    expect(rows.find((r) => r.startsWith('offset.mkv {}'))).toMatch(/counted 20 decoded 20/);
  }, 120_000);

  it('probes a file version once (pre-pass, count and decoder share it), and again when the file changes', async () => {
    const ctx = makeContext();
    await numberedClip(ctx.folders.input, 'clip.mp4', 6);
    const file = path.join(ctx.folders.input, 'clip.mp4');
    const first = await probeVideo(file);
    expect(await probeVideo(file)).toBe(first);
    await numberedClip(ctx.folders.input, 'clip.mp4', 9);
    const changed = await probeVideo(file);
    expect(changed).not.toBe(first);
    expect(changed.frameCount).toBe(9);
  });

  it('says an empty file is empty, in the count and when loading', async () => {
    const ctx = makeContext();
    writeFileSync(path.join(ctx.folders.input, 'empty.mp4'), '');
    await expect(countVideoFrames(path.join(ctx.folders.input, 'empty.mp4'), { ...KEEP_ALL })).rejects.toThrow(/empty\.mp4 is empty \(0 bytes\)/);
    const error = await Promise.resolve().then(() => LoadVideo.execute({ video: 'empty.mp4', ...DEFAULTS }, ctx)).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(NodeInputError);
    expect((error as NodeInputError).message).toMatch(/empty\.mp4 is empty \(0 bytes\)/);
  });

  it('a file cut short: the count tells which frames are there, and decoding names how many decoded and suggests frame_load_cap', async () => {
    const ctx = makeContext();
    const whole = await lavfiClip(ctx.folders.input, 'whole.mp4', 'testsrc=size=64x48:rate=10', ['-frames:v', '30', '-pix_fmt', 'yuv420p', '-movflags', '+faststart']);
    const bytes = readFileSync(whole);
    const cut = path.join(ctx.folders.input, 'cut.mp4');
    writeFileSync(cut, bytes.subarray(0, Math.round(bytes.length * 0.9)));

    const counted = (await countVideoFrames(cut, { ...KEEP_ALL }))!;
    expect(counted.promised).toBe(30);
    expect(counted.frames).toBeLessThan(30);
    const error = await decodeVideo(cut, KEEP_ALL).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(EndsEarlyError);
    const decoded = (error as EndsEarlyError).decoded;
    expect(decoded).toBe(counted.frames);
    expect((error as Error).message).toMatch(new RegExp(`cut\\.mp4 ends early: ${decoded} of 30 frames decoded .*set frame_load_cap to ${decoded}`));

    // Taking the advice loads the frames that are there.
    const capped = await decodeVideo(cut, { ...KEEP_ALL, frameLoadCap: decoded });
    expect(capped.frames.length).toBe(decoded);
    expect(await countVideoFrames(cut, { ...KEEP_ALL, frameLoadCap: decoded })).toMatchObject({ frames: decoded, promised: decoded });
    const node = await Promise.resolve().then(() => LoadVideo.execute({ video: 'cut.mp4', ...DEFAULTS }, ctx)).then(() => undefined, (e: unknown) => e);
    expect(node).toMatchObject({ inputName: 'frame_load_cap' });
  });
});
