// The editor in Chromium against the real server: it opens without console errors on the default
// workflow, every example means the same prompt as on disk, and the canvas fits the window.
import { describe, expect, it } from 'vitest';
import { workflowToPrompt } from '../../common/workflow.ts';
import { browser, examples, type Json, objectInfo, openEditor, page, server, setupEditor, skipReason, workflow } from './editor-session.ts';

setupEditor();

describe('the editor opens', () => {
  it('loads without console errors and opens on the default workflow', async (context) => {
    if (!server) return context.skip(skipReason);
    await openEditor();
    const nodes = (await workflow()).nodes;
    if (examples.length > 0) expect(nodes.length).toBeGreaterThan(0);
    else console.warn('no example workflows on the server yet: the default-workflow check is empty');
    expect(await page().locator('#connection').getAttribute('data-state')).toBe('open');
    expect(browser!.errors).toEqual([]);
  });

  it('opens every example from the menu, and each means the same prompt in the editor as on disk', async (context) => {
    if (!server) return context.skip(skipReason);
    if (examples.length === 0) return context.skip('the server has no example workflows yet');
    for (const [index, example] of examples.entries()) {
      const onDisk = (await (await fetch(`${server.url}/workflows/${example.file}`)).json()) as Json;
      await page().selectOption('#examples', String(index));
      // Examples can share their node count: wait until the editor holds this example's titles and values.
      const fingerprint = (nodes: Json[]) => JSON.stringify(nodes.map((n) => [n.id, n.type, n.title ?? null]).sort());
      await page().waitForFunction(
        ([expected, prefix]) => {
          const nodes = (globalThis as Json).app.editor.serialize().nodes as Json[];
          const sameNodes = JSON.stringify(nodes.map((n) => [n.id, n.type, n.title ?? null]).sort()) === expected;
          return sameNodes && nodes.some((n) => n.widgets_values?.filename_prefix === prefix);
        },
        [fingerprint(onDisk.nodes), onDisk.nodes.find((n: Json) => n.type === 'Encode')?.widgets_values?.filename_prefix] as const,
      );
      const inEditor = await workflow();
      expect(workflowToPrompt(inEditor, objectInfo)).toEqual(workflowToPrompt(onDisk, objectInfo));
      // Each socket once, whatever subset of inputs the file lists; and no node lies on top of another.
      for (const node of inEditor.nodes as Json[]) expect(new Set(node.inputs.map((i: Json) => i.name)).size).toBe(node.inputs.length);
      const boxes = (inEditor.nodes as Json[]).map((n) => [n.pos[0], n.pos[1] - 30, n.pos[0] + n.size[0], n.pos[1] + n.size[1]]);
      const overlapping = boxes.flatMap((a, i) => boxes.slice(i + 1).filter((b) => a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]));
      expect(overlapping).toEqual([]);
    }
    expect(browser!.errors).toEqual([]);
  });


  it('fits the canvas to the window, in device pixels on HiDPI screens', async (context) => {
    if (!server) return context.skip(skipReason);
    const canvasSize = () =>
      page().evaluate(() => {
        const canvas = (globalThis as Json).app.canvas.canvas;
        return { width: canvas.width, height: canvas.height, cssWidth: canvas.clientWidth, cssHeight: canvas.clientHeight };
      });
    const cdp = await page().context().newCDPSession(page());
    await cdp.send('Emulation.setDeviceMetricsOverride', { width: 1000, height: 700, deviceScaleFactor: 2, mobile: false });
    await page().waitForFunction(() => (globalThis as Json).app.canvas.canvas.width === 2000);
    const hidpi = await canvasSize();
    expect(hidpi.width).toBe(hidpi.cssWidth * 2);
    expect(hidpi.height).toBe(hidpi.cssHeight * 2);
    // Back to playwright's own viewport emulation, at 1× pixels.
    await cdp.send('Emulation.clearDeviceMetricsOverride');
    await cdp.detach();
    await page().setViewportSize({ width: 1300, height: 820 });
    await page().waitForFunction(() => (globalThis as Json).app.canvas.canvas.width === 1300);
    const normal = await canvasSize();
    expect([normal.width, normal.height]).toEqual([normal.cssWidth, normal.cssHeight]);
  });
});
