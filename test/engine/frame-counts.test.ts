// The frame-count pre-pass on the file-reading nodes: counts known before running, counts that cannot
// fit refused as node errors naming the node, the input and the fix, before any node runs; what cannot
// be known is never refused.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ALL_NODES } from '../../nodes/index.ts';
import { NodeRegistry } from '../../server/engine/node-registry.ts';
import { Engine } from '../../server/engine/engine.ts';
import type { EngineEvent } from '../../common/events.ts';
import type { Prompt } from '../../common/prompt.ts';
import type { ValidationResult } from '../../server/engine/validate.ts';
import { encodePng } from '../../server/media/image-io.ts';
import { makeFolders } from '../helpers/context.ts';
import { lavfiClip, numberedClip } from '../media/clips.ts';

const folders = makeFolders();
const engine = new Engine({ registry: new NodeRegistry(ALL_NODES), folders, memoryBudgetBytes: 256 * 1024 * 1024 });
const VIDEO = { frame_load_cap: 8, skip_first_frames: 0, select_every_nth: 1, force_rate: 0, width: 0, height: 0 };

beforeAll(async () => {
  await numberedClip(folders.input, 'clip.mp4', 20);
  for (const [folder, count] of [['masks', 20], ['keyframes', 3]] as const) {
    mkdirSync(path.join(folders.input, folder));
    for (let i = 1; i <= count; i++) {
      writeFileSync(path.join(folders.input, folder, `${String(i).padStart(3, '0')}.png`), await encodePng(new Uint8Array(32 * 32 * 3).fill(i * 10), 32, 32));
    }
  }
  writeFileSync(path.join(folders.input, 'one.png'), readFileSync(path.join(folders.input, 'masks', '001.png')));
}, 60_000);

/** LoadVideo (node 1) → StabilityReport (node 4) with masks from `mask` nodes, whose last one feeds the report. */
function report(mask: Prompt, maskLink: [string, number], video: Partial<typeof VIDEO> & { video?: string } = {}): Prompt {
  return {
    1: { class_type: 'LoadVideo', inputs: { video: 'clip.mp4', ...VIDEO, ...video } },
    ...mask,
    4: { class_type: 'StabilityReport', inputs: { source: ['1', 0], result: ['1', 0], mask: maskLink } },
  };
}

function sequence(inputs: Record<string, unknown> = {}): Prompt {
  return {
    2: { class_type: 'LoadImageSequence', inputs: { folder: 'masks', frame_load_cap: 0, skip_first_frames: 0, select_every_nth: 1, ...inputs } },
    3: { class_type: 'MaskFromImage', inputs: { images: ['2', 0], channel: 'luminance', threshold: 0, invert: false, feather: 0 } },
  };
}

function refusalOf(result: ValidationResult): { node: string; input: unknown; details: string }[] {
  if (result.ok) return [];
  return Object.entries(result.node_errors).flatMap(([node, entry]) => entry.errors.map((e) => ({ node, input: e.extra_info.input_name, details: e.details })));
}

describe('the frame-count pre-pass', () => {
  it('refuses a mask sequence longer than the clip on the input that receives it, with the fix, and runs nothing', async () => {
    const prompt = report(sequence(), ['3', 0]);
    const checked = await engine.check(prompt);
    expect(refusalOf(checked)).toEqual([
      {
        node: '4',
        input: 'mask',
        details: 'mask: the mask sequence has 20 frames but the clip has 8; cap it the same way (frame_load_cap=8 on node 2, LoadImageSequence), or give one mask for every frame',
      },
    ]);
    expect(checked.ok ? null : checked.node_errors['4']).toMatchObject({ class_type: 'StabilityReport', dependent_outputs: ['4'] });

    const events: EngineEvent[] = [];
    const result = await engine.run(prompt, { promptId: 'refused', onEvent: (e) => events.push(e) });
    expect(result.status).toBe('invalid');
    expect(result.validation?.node_errors['4']?.errors[0]?.extra_info.input_name).toBe('mask');
    expect(events).toEqual([]); // not even execution_start: LoadVideo never decoded
    expect(result.executed).toEqual([]);
    expect(engine.memory.stats().entries).toBe(0);
  });

  it('capping the mask sequence like the clip passes, and the run sees exactly the counts known before it', async () => {
    const prompt = report(sequence({ frame_load_cap: 8 }), ['3', 0]);
    expect(refusalOf(await engine.check(prompt))).toEqual([]);
    const result = await engine.run(prompt, { promptId: 'capped' });
    expect(result.status).toBe('success');
    expect((result.outputs['4']!.metrics as { frames: number }[])[0]!.frames).toBe(8);
  });

  it('one mask fits any clip; a shorter sequence is refused with "one per frame"', async () => {
    const one = { 2: { class_type: 'LoadImage', inputs: { image: 'one.png' } } };
    expect(refusalOf(await engine.check(report(one, ['2', 1])))).toEqual([]);
    const short = refusalOf(await engine.check(report(sequence({ skip_first_frames: 17 }), ['3', 0])));
    expect(short).toMatchObject([{ node: '4', input: 'mask' }]);
    expect(short[0]!.details).toMatch(/has 3 frames but the clip has 8; give one per frame \(8\)/);
  });

  it('select_every_nth and skip on the mask sequence count like the clip\'s', async () => {
    // 20 masks, every 2nd after skipping 4 = 8.
    expect(refusalOf(await engine.check(report(sequence({ skip_first_frames: 4, select_every_nth: 2 }), ['3', 0])))).toEqual([]);
    expect(refusalOf(await engine.check(report(sequence({ skip_first_frames: 20 }), ['3', 0])))).toMatchObject([
      { node: '2', input: 'skip_first_frames', details: expect.stringMatching(/skips all 20 images of "masks"/) },
    ]);
  });

  it('a value known before running (an Int) counts; one that is not (a Math result) stays unknown and is not refused', async () => {
    const viaInt = { 5: { class_type: 'Int', inputs: { value: 12 } }, ...sequence({ frame_load_cap: ['5', 0] }) };
    expect(refusalOf(await engine.check(report(viaInt, ['3', 0])))).toMatchObject([{ node: '4', input: 'mask', details: expect.stringMatching(/has 12 frames/) }]);
    const viaMath = { 5: { class_type: 'Math', inputs: { a: 6, b: 6, operation: 'add' } }, ...sequence({ frame_load_cap: ['5', 1] }) };
    expect(await engine.check(report(viaMath, ['3', 0]))).toMatchObject({ ok: true });
  });

  it('KeyframeInterpolate: keyframes beyond the clip (frame_count linked from LoadVideo) are refused on its keyframes input', async () => {
    const keyframes = (keys: string, endFrame = 0): Prompt => ({
      2: { class_type: 'LoadImageSequence', inputs: { folder: 'keyframes', frame_load_cap: 0, skip_first_frames: 0, select_every_nth: 1 } },
      3: { class_type: 'MaskFromImage', inputs: { images: ['2', 0], channel: 'luminance', threshold: 0, invert: false, feather: 0 } },
      5: { class_type: 'KeyframeInterpolate', inputs: { masks: ['3', 0], keyframes: keys, frame_count: ['1', 1], end_frame: endFrame, method: 'crossfade', easing: 'linear' } },
    });
    expect(refusalOf(await engine.check(report(keyframes('1,30,60'), ['5', 0])))).toEqual([
      { node: '5', input: 'keyframes', details: "keyframes: frame 60 is beyond the clip's 8 frames; lower it, or set end_frame to pin the last keyframe to a frame" },
    ]);
    expect(refusalOf(await engine.check(report(keyframes('1,4'), ['5', 0])))).toMatchObject([{ node: '5', input: 'keyframes', details: expect.stringMatching(/2 frame numbers for 3 keyframe masks/) }]);
    expect(refusalOf(await engine.check(report(keyframes('1,30,60', 8), ['5', 0])))).toEqual([]);
    // Its own frame_count, typed in, makes that many masks: the report then refuses them, with KeyframeInterpolate's fix.
    const typed = keyframes('1,4,6');
    typed[5]!.inputs.frame_count = 64;
    expect(refusalOf(await engine.check(report(typed, ['5', 0])))[0]!.details).toMatch(/has 64 frames but the clip has 8; set frame_count to 8 on node 5 \(KeyframeInterpolate\)/);
  });

  it('an empty or cut-short clip is refused on LoadVideo before decoding, saying what to do', async () => {
    writeFileSync(path.join(folders.input, 'empty.mp4'), '');
    const one = { 2: { class_type: 'LoadImage', inputs: { image: 'one.png' } } };
    expect(refusalOf(await engine.check(report(one, ['2', 1], { video: 'empty.mp4' })))).toMatchObject([
      { node: '1', input: 'video', details: expect.stringMatching(/empty\.mp4 is empty \(0 bytes\)/) },
    ]);
    const whole = await lavfiClip(folders.input, 'whole.mp4', 'testsrc=size=32x32:rate=10', ['-frames:v', '30', '-pix_fmt', 'yuv420p', '-movflags', '+faststart']);
    const bytes = readFileSync(whole);
    writeFileSync(path.join(folders.input, 'cut.mp4'), bytes.subarray(0, Math.round(bytes.length * 0.9)));
    const [cut] = refusalOf(await engine.check(report(one, ['2', 1], { video: 'cut.mp4', frame_load_cap: 0 })));
    expect(cut).toMatchObject({ node: '1', input: 'frame_load_cap' });
    const available = Number(/only (\d+) of the 30 frames/.exec(cut!.details)?.[1]);
    expect(cut!.details).toContain(`set frame_load_cap to ${available}`);
    expect(refusalOf(await engine.check(report(one, ['2', 1], { video: 'cut.mp4', frame_load_cap: available })))).toEqual([]);
  });
});
