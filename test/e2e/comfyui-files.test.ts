// ComfyUI's workflow files in the editor, in real Chromium against the real server: each fixture opened
// with Open… and saved with Save comes back equal except for the view (`extra.ds`); VHS nodes open as
// Load Video / Encode and save back as VHS with the edit; the search finds nodes by ComfyUI names; an
// API prompt opened in the editor shows every link.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { workflowToPrompt } from '../../common/workflow.ts';
import { objectInfo, openEditor, page, server, setupEditor, skipReason, type Json } from './editor-session.ts';
import { ARTIFACTS_DIR, REPO_ROOT } from './harness.ts';

const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'comfyui');
const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));

setupEditor();

function fixture(name: string): Json {
  return JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8'));
}

/** The file without its view (`extra.ds`), which the comparisons leave out. */
function withoutView(workflow: Json): Json {
  const { ds: _view, ...extra } = workflow.extra;
  return { ...workflow, extra };
}

/** Opens a file through the Open… button's file chooser, as a user would. */
async function openThroughMenu(name: string, contents: string): Promise<void> {
  const [chooser] = await Promise.all([page().waitForEvent('filechooser'), page().click('#open-workflow')]);
  await chooser.setFiles({ name, mimeType: 'application/json', buffer: Buffer.from(contents) });
  await page().waitForFunction((count) => (globalThis as Json).app.graph.nodes.length === count, JSON.parse(contents).nodes?.length ?? Object.keys(JSON.parse(contents)).length);
}

/** Saves through the Save button and reads the downloaded file. */
async function saveThroughMenu(): Promise<Json> {
  const [download] = await Promise.all([page().waitForEvent('download'), page().click('#save-workflow')]);
  return JSON.parse(readFileSync((await download.path())!, 'utf8'));
}

describe('ComfyUI files in the editor', () => {
  it.for(fixtures)('opens %s and saves it back equal except for the view', async (file, context) => {
    if (!server) return context.skip(skipReason);
    if (!page().url().startsWith(server.url)) await openEditor();
    const original = fixture(file);
    await openThroughMenu(file, JSON.stringify(original));
    expect(withoutView(await saveThroughMenu())).toEqual(withoutView(original));
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    await page().screenshot({ path: path.join(ARTIFACTS_DIR, `comfyui-${path.basename(file, '.json')}.png`) });
  });

  it('opens VHS Load Video and Video Combine as Load Video and Encode, and saves an edit back as VHS', async (context) => {
    if (!server) return context.skip(skipReason);
    const original = fixture('vhs-v2v.json');
    await openThroughMenu('vhs-v2v.json', JSON.stringify(original));
    const opened = await page().evaluate(() => {
      const { graph } = (globalThis as Json).app;
      return [1, 4].map((id) => {
        const node = graph.getNodeById(id);
        return { type: node.type, values: node.widgetValues };
      });
    });
    expect(opened[0]).toEqual({ type: 'LoadVideo', values: expect.objectContaining({ video: 'street.mp4', width: 512, frame_load_cap: 48 }) });
    expect(opened[1]).toEqual({ type: 'Encode', values: expect.objectContaining({ fps: 24, format: 'mp4-h264', crf: 19 }) });
    await page().evaluate(() => (globalThis as Json).app.graph.getNodeById(4).setWidgetValue('fps', 12));
    const saved = await saveThroughMenu();
    const combine = saved.nodes.find((n: Json) => n.id === 4);
    expect(combine.type).toBe('VHS_VideoCombine');
    expect(combine.widgets_values).toEqual({ ...original.nodes.find((n: Json) => n.id === 4).widgets_values, frame_rate: 12 });
    expect(withoutView({ ...saved, nodes: saved.nodes.filter((n: Json) => n.id !== 4) })).toEqual(
      withoutView({ ...original, nodes: original.nodes.filter((n: Json) => n.id !== 4) }),
    );
    // Queueing it sends Limelight's nodes: the server's conversion of the saved file.
    const { prompt } = workflowToPrompt(saved, objectInfo);
    expect(prompt['1']).toMatchObject({ class_type: 'LoadVideo', inputs: { video: 'street.mp4', width: 512, frame_load_cap: 48 } });
    expect(prompt['4']).toMatchObject({ class_type: 'Encode', inputs: { fps: 12, format: 'mp4-h264', crf: 19 } });
  });

  it('finds nodes by their ComfyUI names in the search box', async (context) => {
    if (!server) return context.skip(skipReason);
    await page().click('#new-workflow');
    const box = (await page().locator('#graph-canvas').boundingBox())!;
    const searches = [['KSampler', 'Sampler'], ['CLIPTextEncode', 'TextEncode'], ['VHS_VideoCombine', 'Encode']];
    for (const [index, [alias, type]] of searches.entries()) {
      // Each new node lands where the search was opened: the next search opens beside it.
      const [x, y] = [box.x + 100 + 350 * index, box.y + 80];
      await page().mouse.click(x, y);
      await page().mouse.click(x, y, { delay: 80 });
      await page().waitForSelector('.litesearchbox input');
      await page().keyboard.type(alias);
      await page().waitForFunction(
        (type) => (globalThis as Json).document.querySelector('.litesearchbox .lite-search-item')?.dataset.type === type,
        type,
      );
      await page().keyboard.press('Enter');
      await page().waitForFunction((type) => (globalThis as Json).app.graph.nodes.some((n: Json) => n.type === type), type);
    }
    expect(await page().evaluate(() => (globalThis as Json).app.graph.nodes.map((n: Json) => n.type))).toEqual(['Sampler', 'TextEncode', 'Encode']);
  });

  it('shows every link of an API prompt, unknown nodes getting the outputs the links leave from', async (context) => {
    if (!server) return context.skip(skipReason);
    // ComfyUI's default graph as an API prompt: its loader, sampler and latent are unknown here.
    const prompt = {
      '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'v1-5-pruned-emaonly-fp16.safetensors' } },
      '5': { class_type: 'EmptyLatentImage', inputs: { width: 512, height: 512, batch_size: 1 } },
      '6': { class_type: 'CLIPTextEncode', inputs: { text: 'a bottle', clip: ['4', 1] } },
      '7': { class_type: 'TextEncode', inputs: { text: 'watermark', clip: ['4', 1] } },
      '3': { class_type: 'KSampler', inputs: { model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0], seed: 1, steps: 20 } },
      '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
      '9': { class_type: 'PreviewImage', inputs: { images: ['8', 0] } },
    };
    const links = Object.values(prompt).flatMap((node) => Object.values(node.inputs).filter(Array.isArray)).length;
    await openThroughMenu('api-prompt.json', JSON.stringify(prompt));
    const drawn = await page().evaluate(() => {
      const { graph } = (globalThis as Json).app;
      return [...graph._links.values()].map((link: Json) => {
        const origin = graph.getNodeById(link.origin_id);
        const target = graph.getNodeById(link.target_id);
        return { fromOutput: origin.outputs[link.origin_slot]?.links?.includes(link.id) ?? false, toInput: target.inputs[link.target_slot]?.link === link.id };
      });
    });
    expect(drawn).toHaveLength(links);
    expect(drawn.every((l: Json) => l.fromOutput && l.toInput)).toBe(true);
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    await page().screenshot({ path: path.join(ARTIFACTS_DIR, 'comfyui-api-prompt.png') });
  });
});
