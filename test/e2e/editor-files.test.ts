// The editor in Chromium against the real server: uploading images to a node, and the mask painter
// whose mask a run loads (with the workflow reopened from the output mp4).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ARTIFACTS_DIR } from './harness.ts';
import { addNodes, browser, drag, dropFile, type Json, objectInfo, openEditor, page, recordEvents, runState, seenEvents, server, setupEditor, skipReason, slotPoint, solidPng, waitForPhase, widgetPoint, workflow } from './editor-session.ts';

setupEditor();

describe('uploads and masks in the editor', () => {
  it('uploads an image from the node’s button and by dropping it on the node', async (context) => {
    if (!server) return context.skip(skipReason);
    if (!objectInfo.LoadImage) return context.skip('the server has no LoadImage node yet');
    await openEditor();
    await page().click('#new-workflow');
    const [load] = await addNodes([['LoadImage', 100, 100]]);
    const button = await widgetPoint(load, 'upload image', 0.5);
    // Playwright starts intercepting file choosers when the first listener is added: let that land first.
    const choosing = page().waitForEvent('filechooser');
    await page().evaluate(() => 0);
    await page().mouse.click(button.x, button.y);
    const chooser = await choosing;
    await chooser.setFiles({ name: 'red.png', mimeType: 'image/png', buffer: await solidPng('#f00') });
    const imageValue = () => page().evaluate((load) => (globalThis as Json).app.graph.getNodeById(load).widgetValues.image, load);
    await page().waitForFunction((load) => (globalThis as Json).app.graph.getNodeById(load).widgetValues.image === 'red.png', load);

    const title = await slotPoint(load, 'output', 0);
    await dropFile(await solidPng('#00f'), 'blue.png', 'image/png', { x: title.x - 100, y: title.y + 10 });
    await page().waitForFunction((load) => (globalThis as Json).app.graph.getNodeById(load).widgetValues.image === 'blue.png', load);
    expect(await imageValue()).toBe('blue.png');
    const options: string[] = await page().evaluate((load) => (globalThis as Json).app.graph.getNodeById(load).widget('image').options.values, load);
    expect(options).toEqual(expect.arrayContaining(['red.png', 'blue.png']));
  });

  it('paints a mask that a run loads, previews its frames and video, and reopens the workflow from the output mp4', async (context) => {
    if (!server) return context.skip(skipReason);
    const missing = ['LoadImage', 'PreviewImage', 'Encode'].filter((type) => !objectInfo[type]);
    if (missing.length > 0) return context.skip(`the server has no ${missing.join(', ')} node yet`);
    await openEditor();
    await page().click('#new-workflow');
    const [load, preview, encode] = await addNodes([
      ['LoadImage', 60, 100],
      ['PreviewImage', 420, 60],
      ['Encode', 420, 420],
    ]);
    await drag(await slotPoint(load, 'output', 0), await slotPoint(preview, 'input', 0));
    await drag(await slotPoint(load, 'output', 0), await slotPoint(encode, 'input', 0));

    // Paint a horizontal white stroke through the middle of a blank mask and save it.
    const button = await widgetPoint(load, 'paint mask', 0.5);
    await page().mouse.click(button.x, button.y);
    await page().selectOption('.mask-painter select', '');
    await page().waitForSelector('.mask-painter[data-ready]');
    const box = (await page().locator('.mask-painter canvas.mask').boundingBox())!;
    await drag({ x: box.x + box.width * 0.2, y: box.y + box.height * 0.5 }, { x: box.x + box.width * 0.8, y: box.y + box.height * 0.5 });
    await page().click('[data-action="save-mask"]');
    await page().waitForSelector('.mask-painter', { state: 'detached' });
    const maskName: string = await page().evaluate((load) => (globalThis as Json).app.graph.getNodeById(load).widgetValues.image, load);
    expect(maskName).toMatch(/^mask-\d+\.png$/);

    await recordEvents();
    const queued = await workflow();
    await page().click('#queue-button');
    await waitForPhase('done', 'failed');
    expect((await runState()).phase).toBe('done');
    const progress = (await seenEvents()).filter(([type]) => type === 'progress');
    expect(progress.map(([, detail]) => detail)).toContainEqual(expect.objectContaining({ node: String(encode), frame: 1, frames: 1 }));

    // The Encode node shows a playable video.
    await page().waitForFunction(() => ((globalThis as Json).document.querySelector('.node-video')?.readyState ?? 0) >= 1);
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    await page().screenshot({ path: path.join(ARTIFACTS_DIR, 'media.png') });

    // The preview frame is the painted mask: white along the stroke, black above it.
    const pixels = (await page().waitForFunction((preview) => {
      const node = (globalThis as Json).app.graph.getNodeById(preview);
      const images = node.constructor.view.previewImages(node);
      const frame = images[0];
      if (!frame?.complete || !frame.naturalWidth) return null;
      const canvas = (globalThis as Json).document.createElement('canvas');
      canvas.width = frame.naturalWidth;
      canvas.height = frame.naturalHeight;
      const ctx = canvas.getContext('2d');
      ctx.drawImage(frame, 0, 0);
      const at = (fx: number, fy: number) => ctx.getImageData(Math.floor(canvas.width * fx), Math.floor(canvas.height * fy), 1, 1).data[0];
      return [at(0.5, 0.5), at(0.5, 0.1)];
    }, preview).then((handle) => handle.jsonValue())) as number[];
    expect(pixels[0]).toBeGreaterThan(200);
    expect(pixels[1]).toBeLessThan(50);

    // Dropping that mp4 on a new canvas reopens the workflow that made it.
    const [video] = (await runState()).outputs[String(encode)].videos;
    const params = new URLSearchParams({ filename: video.filename, subfolder: video.subfolder, type: video.type });
    const mp4 = Buffer.from(await (await fetch(`${server.url}/view?${params}`)).arrayBuffer());
    await page().click('#new-workflow');
    await dropFile(mp4, video.filename, 'video/mp4');
    await page().waitForFunction(() => (globalThis as Json).app.editor.serialize().nodes.length > 0);
    expect(await workflow()).toEqual(queued);
    expect(browser!.errors).toEqual([]);
  });
});
