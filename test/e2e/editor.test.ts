// The editor in real Chromium against the real server. Runs on whatever nodes `/object_info` offers:
// the graph is built from the trivial nodes (Float, Math, SaveText); steps that need the media and
// model nodes (progress with frames/steps, an Encode mp4, LoadImage for the mask) run when those nodes
// exist and say so when they don't.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toolPath } from '../../server/media/binaries.ts';
import { workflowToPrompt } from '../../server/engine/workflow.ts';
import { addNodes as addNodesTo, ARTIFACTS_DIR, buildClient, openBrowser, startServer, type BrowserSession, type RunningServer } from './harness.ts';

// In-page code reads the editor through `window.app` (typed loosely: the page is not part of this program).
/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

let server: RunningServer | null = null;
let browser: BrowserSession | null = null;
let skipReason = '';
let objectInfo: Record<string, Json> = {};
let examples: { name: string; file: string }[] = [];

beforeAll(async () => {
  // First the client: `limelight serve` would build a missing or stale one itself, racing this build.
  await buildClient();
  const started = await startServer();
  if ('unavailable' in started) {
    skipReason = started.unavailable;
    console.warn(`e2e skipped: ${skipReason}`);
    return;
  }
  server = started;
  objectInfo = (await (await fetch(`${server.url}/object_info`)).json()) as Json;
  examples = (await (await fetch(`${server.url}/workflows`)).json()) as Json;
  browser = await openBrowser();
  browser.page.setDefaultTimeout(15_000);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

function page(): Page {
  return browser!.page;
}

async function openEditor(): Promise<void> {
  await page().goto(server!.url);
  await page().waitForSelector('body[data-ready="true"]');
}

/** The editor's serialized workflow. */
function workflow(): Promise<Json> {
  return page().evaluate(() => (globalThis as Json).app.editor.serialize());
}

/** Where a node's slot (or widget row) is on the page. */
async function slotPoint(nodeId: number, kind: 'input' | 'output', slot: number): Promise<{ x: number; y: number }> {
  return page().evaluate(
    ({ nodeId, kind, slot }) => {
      const { graph, canvas } = (globalThis as Json).app;
      canvas.draw(true, true); // lays out a node added since the last frame
      const node = graph.getNodeById(nodeId);
      const pos = kind === 'input' ? node.getInputPos(slot) : node.getOutputPos(slot);
      const [x, y] = canvas.convertCanvasToOffset(pos);
      const rect = canvas.canvas.getBoundingClientRect();
      return { x: rect.left + x, y: rect.top + y };
    },
    { nodeId, kind, slot },
  );
}

/** Where a widget is on the page, once the canvas has laid the node out (widgets get their row then). */
async function widgetPoint(nodeId: number, widgetName: string, fraction: number): Promise<{ x: number; y: number }> {
  const handle = await page().waitForFunction(
    ({ nodeId, widgetName, fraction }) => {
      const { graph, canvas } = (globalThis as Json).app;
      const node = graph.getNodeById(nodeId);
      const widget = node.widgets.find((w: Json) => w.name === widgetName);
      if (!(widget.y > 0)) return canvas.setDirty(true, true);
      const [x, y] = canvas.convertCanvasToOffset([node.pos[0] + 15 + (node.size[0] - 30) * fraction, node.pos[1] + widget.y + 10]);
      const rect = canvas.canvas.getBoundingClientRect();
      return { x: rect.left + x, y: rect.top + y };
    },
    { nodeId, widgetName, fraction },
  );
  return (await handle.jsonValue()) as { x: number; y: number };
}

async function drag(from: { x: number; y: number }, to: { x: number; y: number }): Promise<void> {
  const mouse = page().mouse;
  await mouse.move(from.x, from.y);
  await mouse.down();
  await mouse.move((from.x + to.x) / 2, (from.y + to.y) / 2, { steps: 5 });
  await mouse.move(to.x, to.y, { steps: 5 });
  await mouse.up();
}

/** Adds nodes by type at fixed places; returns their ids. */
function addNodes(placed: [string, number, number][]): Promise<number[]> {
  return addNodesTo(page(), placed);
}

function runState(): Promise<{ phase: string; errors: Record<string, Json[]>; outputs: Record<string, Json>; executed: string[] }> {
  return page().evaluate(() => {
    const state = (globalThis as Json).app.app.runState;
    return {
      phase: state.phase,
      errors: Object.fromEntries(state.errors),
      outputs: Object.fromEntries(state.outputs),
      executed: [...state.executed],
    };
  });
}

async function waitForPhase(...phases: string[]): Promise<void> {
  await page().waitForFunction((phases) => phases.includes((globalThis as Json).app.app.runState.phase), phases);
}

/** Starts recording the run events the page receives. */
async function recordEvents(): Promise<void> {
  await page().evaluate(() => {
    const g = globalThis as Json;
    const listening = Array.isArray(g.seenEvents);
    g.seenEvents = [];
    if (listening) return;
    for (const type of ['execution_start', 'executing', 'progress', 'executed', 'execution_success', 'execution_error']) {
      g.app.api.addEventListener(type, (e: Json) => g.seenEvents.push([type, e.detail]));
    }
  });
}

function seenEvents(): Promise<[string, Json][]> {
  return page().evaluate(() => (globalThis as Json).seenEvents);
}

async function waitForErrorOn(nodeId: number): Promise<void> {
  await page().waitForFunction((id) => (globalThis as Json).app.app.runState.errors.has(String(id)), nodeId);
}

async function queueWithKeyboard(): Promise<void> {
  await page().focus('#graph-canvas');
  await page().keyboard.press('Control+Enter');
}

describe('the editor in Chromium', () => {
  it('loads without console errors and opens on the default workflow', async (context) => {
    if (!server) return context.skip(skipReason);
    await openEditor();
    const nodes = (await workflow()).nodes;
    if (examples.length > 0) expect(nodes.length).toBeGreaterThan(0);
    else console.warn('no example workflows on the server yet: the default-workflow check is empty');
    expect(await page().locator('#connection').getAttribute('data-state')).toBe('open');
    expect(browser!.errors).toEqual([]);
  });

  it('runs the default workflow on the demo model, with progress on the nodes and the output previewed', async (context) => {
    if (!server) return context.skip(skipReason);
    const models: string[] = objectInfo.LoadModel?.input.required.model[0] ?? [];
    if (examples.length === 0 || models.length === 0) return context.skip('the server has no example workflows or no demo model yet');
    await recordEvents();
    await page().click('#queue-button');
    await page().waitForFunction(() => ['done', 'failed'].includes((globalThis as Json).app.app.runState.phase), undefined, { timeout: 280_000 });
    const state = await runState();
    expect(state.errors).toEqual({});
    expect(state.phase).toBe('done');
    const progress = (await seenEvents()).filter(([type]) => type === 'progress').map(([, detail]) => detail);
    expect(progress.some((p) => p.steps > 0 && p.step > 0)).toBe(true);
    expect(progress.some((p) => p.frames > 0 && p.frame > 0)).toBe(true);
    const previews = Object.values(state.outputs).filter((output) => output.images?.length || output.videos?.length);
    expect(previews.length).toBeGreaterThan(0);
    // The Sampler sent live previews while it ran (binary frames with metadata); the last one stays on it.
    const samplers = (await workflow()).nodes.filter((n: Json) => n.type === 'Sampler').map((n: Json) => String(n.id));
    const live = await page().evaluate(
      (ids) => ids.map((id: string) => (globalThis as Json).app.app.runState.livePreviews.get(id)?.type ?? null),
      samplers,
    );
    expect(live).toEqual(samplers.map(() => 'image/jpeg'));
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    await page().screenshot({ path: path.join(ARTIFACTS_DIR, 'editor.png') });
  }, 300_000);

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

  let ids: { float: number; math: number; save: number };

  it('adds nodes from the search box, links them by dragging and edits a widget', async (context) => {
    if (!server) return context.skip(skipReason);
    await page().click('#new-workflow');
    // Double-click on the empty canvas opens the node search.
    const canvasBox = (await page().locator('#graph-canvas').boundingBox())!;
    // litegraph reads two pointer-downs at the same timestamp as two clicks: click twice, apart in time.
    await page().mouse.click(canvasBox.x + 700, canvasBox.y + 500);
    await page().mouse.click(canvasBox.x + 700, canvasBox.y + 500, { delay: 80 });
    await page().waitForSelector('.litesearchbox input');
    await page().keyboard.type('Math');
    await page().waitForFunction(() => (globalThis as Json).document.querySelector('.litesearchbox .lite-search-item')?.textContent.startsWith('Math'));
    await page().keyboard.press('Enter');
    expect((await workflow()).nodes.map((n: Json) => n.type)).toEqual(['Math']);
    await page().click('#new-workflow');

    // The canvas menu lists the node categories the server declares.
    await page().mouse.click(canvasBox.x + 700, canvasBox.y + 500, { button: 'right' });
    await page().locator('.litecontextmenu .litemenu-entry', { hasText: 'Add Group' }).waitFor();
    await page().locator('.litecontextmenu .litemenu-entry', { hasText: 'Add Node' }).click();
    const categories = await page().locator('.litecontextmenu .litemenu-entry').allTextContents();
    const declared = new Set(Object.values(objectInfo).map((info: Json) => info.category.split('/')[0]));
    expect(categories).toEqual(expect.arrayContaining([...declared]));
    await page().keyboard.press('Escape');
    await page().mouse.click(canvasBox.x + 50, canvasBox.y + 700);

    const [float, math, save] = await addNodes([
      ['Float', 60, 80],
      ['Math', 380, 80],
      ['SaveText', 700, 80],
    ]);
    ids = { float, math, save };
    await drag(await slotPoint(float, 'output', 0), await slotPoint(math, 'input', 0));
    await drag(await slotPoint(math, 'output', 0), await slotPoint(save, 'input', 0));
    const links = (await workflow()).links.map((l: Json[]) => l.slice(1, 5));
    expect(links).toEqual([
      [float, 0, math, 0],
      [math, 0, save, 0],
    ]);
    // A FLOAT output cannot feed Math's COMBO input: the shared rule refuses it.
    await drag(await slotPoint(float, 'output', 0), await slotPoint(math, 'input', 1));
    expect((await workflow()).links).toHaveLength(2);

    // Clicking the middle of a number widget opens the value dialog.
    for (const [node, value] of [
      [float, '10'],
      [math, '4'],
    ] as const) {
      const widget = node === float ? 'value' : 'b';
      const point = await widgetPoint(node, widget, 0.5);
      await page().mouse.click(point.x, point.y);
      await page().locator('.graphdialog input').fill(value);
      await page().keyboard.press('Enter');
    }
    const values = Object.fromEntries((await workflow()).nodes.map((n: Json) => [n.id, n.widgets_values]));
    expect(values[float]).toEqual({ value: 10 });
    expect(values[math]).toEqual({ a: 0, operation: 'add', b: 4 });
  });

  it('undoes and redoes, copies and pastes', async (context) => {
    if (!server) return context.skip(skipReason);
    const before = await workflow();
    await page().evaluate(() => (globalThis as Json).app.editor.addNode('Float'));
    expect((await workflow()).nodes).toHaveLength(4);
    await page().focus('#graph-canvas');
    await page().keyboard.press('Control+z');
    expect(await workflow()).toEqual(before);
    await page().keyboard.press('Control+Shift+z');
    expect((await workflow()).nodes).toHaveLength(4);
    await page().keyboard.press('Control+z');

    // Select all, copy, and paste below: the canvas has the keyboard focus.
    await page().keyboard.press('Control+a');
    await page().keyboard.press('Control+c');
    const below = await slotPoint(ids.float, 'output', 0);
    await page().mouse.move(below.x, below.y + 300);
    await page().keyboard.press('Control+v');
    const pasted = await workflow();
    expect(pasted.nodes.map((n: Json) => n.type).sort()).toEqual(['Float', 'Float', 'Math', 'Math', 'SaveText', 'SaveText']);
    // The copies keep their links between them.
    expect(pasted.links).toHaveLength(4);
    await page().keyboard.press('Control+z');
    expect(await workflow()).toEqual(before);
  });

  it('queues with Ctrl+Enter and shows the run and its output on the nodes', async (context) => {
    if (!server) return context.skip(skipReason);
    await recordEvents();
    await queueWithKeyboard();
    await waitForPhase('done', 'failed');
    const state = await runState();
    expect(state.phase).toBe('done');
    expect(state.outputs[String(ids.save)].text).toEqual(['14']);
    const events = await seenEvents();
    expect(events[0][0]).toBe('execution_start');
    expect(events).toContainEqual(['executing', expect.objectContaining({ node: String(ids.math) })]);
    expect(events.at(-1)![0]).toBe('execution_success');
  });

  it('shows a refused prompt and a failed node on the node and input at fault', async (context) => {
    if (!server) return context.skip(skipReason);
    // Refused: SaveText's value has no link.
    await page().evaluate((save) => {
      const { graph, editor } = (globalThis as Json).app;
      graph.getNodeById(save).disconnectInput(0);
      editor.scheduleRecord();
    }, ids.save);
    await page().click('#queue-button');
    await waitForErrorOn(ids.save);
    let state = await runState();
    expect(Object.keys(state.errors)).toEqual([String(ids.save)]);
    expect(state.errors[String(ids.save)][0].inputName).toBe('value');

    // Fails while running: 10 ÷ 0 is reported by Math on its input b.
    await page().keyboard.press('Control+z');
    await page().evaluate((math) => {
      const node = (globalThis as Json).app.graph.getNodeById(math);
      node.setWidgetValue('operation', 'divide');
      node.setWidgetValue('b', 0);
    }, ids.math);
    await queueWithKeyboard();
    await waitForErrorOn(ids.math);
    state = await runState();
    expect(Object.keys(state.errors)).toEqual([String(ids.math)]);
    expect(state.errors[String(ids.math)][0]).toMatchObject({ inputName: 'b' });
    expect(state.errors[String(ids.math)][0].message).toMatch(/finite/);
  });

  it('saves the workflow, restores it on reload, and reopens it from a dropped video', async (context) => {
    if (!server) return context.skip(skipReason);
    const [download] = await Promise.all([page().waitForEvent('download'), page().click('#save-workflow')]);
    // The file also holds the view (`extra.ds`, as ComfyUI saves it); the rest is the graph.
    const { ds, ...extra } = JSON.parse(readFileSync((await download.path())!, 'utf8')).extra;
    const saved = { ...JSON.parse(readFileSync((await download.path())!, 'utf8')), extra };
    expect(ds.scale).toBeGreaterThan(0);
    expect(saved).toEqual(await workflow());

    await page().reload();
    await page().waitForSelector('body[data-ready="true"]');
    expect(await workflow()).toEqual(saved);

    await page().click('#new-workflow');
    expect((await workflow()).nodes).toEqual([]);
    const video = makeVideoWithWorkflow(saved);
    await dropFile(video, 'limelight-output.mp4', 'video/mp4');
    await page().waitForFunction(() => (globalThis as Json).app.editor.serialize().nodes.length > 0);
    expect(await workflow()).toEqual(saved);
  });

  it('opens a workflow with unknown node types as placeholders that keep their data', async (context) => {
    if (!server) return context.skip(skipReason);
    const unknown = {
      id: 7, type: 'SomeoneElsesNode', pos: [400, 400], size: [300, 140], flags: {}, order: 0, mode: 0, title: 'Custom',
      inputs: [{ name: 'image', type: 'IMAGE', link: null }],
      outputs: [{ name: 'MASK', type: 'MASK', links: null }],
      properties: { 'Node name for S&R': 'SomeoneElsesNode' },
      widgets_values: [0.5, 'fancy', true],
    };
    const saved = await workflow();
    const opened = { ...saved, nodes: [...saved.nodes, unknown], last_node_id: 7 };
    await page().evaluate((opened) => (globalThis as Json).app.app.loadWorkflow(opened, 'with-unknown'), opened);
    await expect.poll(() => page().locator('#notice').textContent()).toContain('SomeoneElsesNode');
    const roundTrip = await workflow();
    // Only the execution order litegraph computes may differ.
    expect({ ...roundTrip.nodes.find((n: Json) => n.id === 7), order: unknown.order }).toEqual(unknown);
    // Queueing names the node the server cannot run.
    await page().click('#queue-button');
    await waitForErrorOn(7);
    expect((await runState()).errors['7'][0].message).toMatch(/SomeoneElsesNode/);
    await page().evaluate((saved) => (globalThis as Json).app.app.loadWorkflow(saved, 'small'), saved);
  });

  it('writes a screenshot of a small graph after a run', async (context) => {
    if (!server) return context.skip(skipReason);
    await page().evaluate((math) => {
      const node = (globalThis as Json).app.graph.getNodeById(math);
      node.setWidgetValue('operation', 'multiply');
      node.setWidgetValue('b', 3);
    }, ids.math);
    await queueWithKeyboard();
    await waitForPhase('done');
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    await page().screenshot({ path: path.join(ARTIFACTS_DIR, 'small-graph.png') });
    expect(browser!.errors).toEqual([]);
  });

  it('lists past runs in the queue panel and reopens the workflow one of them ran', async (context) => {
    if (!server) return context.skip(skipReason);
    const history = (await (await fetch(`${server.url}/history`)).json()) as Record<string, Json>;
    const [latestId, latest] = Object.entries(history).at(-1)!;
    await page().click('#queue-panel-button');
    const load = page().locator(`#queue-panel .item[data-prompt-id="${latestId}"] button`);
    await page().click('#new-workflow');
    await load.click();
    expect(await workflow()).toEqual(latest.prompt[3].extra_pnginfo.workflow);
    await page().click('#queue-panel-button');
    expect(await page().locator('#queue-panel').isHidden()).toBe(true);
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

  it('shows the connection state and reconnects when the server restarts', async (context) => {
    if (!server) return context.skip(skipReason);
    await page().evaluate(() => {
      const g = globalThis as Json;
      g.connectionStates = [];
      g.app.api.addEventListener('connection', (e: Json) => g.connectionStates.push(e.detail));
    });
    await server.restart();
    await page().waitForFunction(() => {
      const g = globalThis as Json;
      return g.connectionStates.includes('closed') && g.app.api.connection === 'open';
    });
    expect(await page().locator('#connection').getAttribute('data-state')).toBe('open');
    // While the server was down Chromium logs the refused socket attempts; nothing else may fail.
    expect(browser!.errors.filter((e) => !/WebSocket connection to .* failed/.test(e))).toEqual([]);
    browser!.errors.length = 0;
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

  it('opens an API prompt dropped as JSON and runs it on the demo model, with frames and steps on the nodes', async (context) => {
    if (!server) return context.skip(skipReason);
    if (!hasDemoModel()) return context.skip('the server has no demo model or sample clip yet');
    const prompt = demoPrompt({ frames: 2, size: 64, steps: 2 });
    await openEditor();
    await page().click('#new-workflow');
    await dropFile(Buffer.from(JSON.stringify(prompt)), 'prompt.json', 'application/json');
    await page().waitForFunction(() => (globalThis as Json).app.editor.serialize().nodes.length === 8);

    await recordEvents();
    await queueWithKeyboard();
    await page().waitForFunction(() => ['done', 'failed'].includes((globalThis as Json).app.app.runState.phase), undefined, { timeout: 120_000 });
    const state = await runState();
    expect(state.errors).toEqual({});
    expect(state.phase).toBe('done');
    const progress = (await seenEvents()).filter(([type]) => type === 'progress').map(([, detail]) => detail);
    expect(progress).toContainEqual(expect.objectContaining({ node: '5', step: 2, steps: 2, frames: 2 }));
    expect(progress).toContainEqual(expect.objectContaining({ node: '2', frame: 2, frames: 2 }));

    // Both decoded frames are previewed on the PreviewImage node, the clip plays on the Encode node.
    await page().waitForFunction(() => {
      const node = (globalThis as Json).app.graph.getNodeById(7);
      const images = node.constructor.view.previewImages(node);
      return images.length === 2 && images.every((image: Json) => image.complete && image.naturalWidth === 64);
    });
    await page().waitForFunction(() => ((globalThis as Json).document.querySelector('.node-video')?.readyState ?? 0) >= 1);
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    await page().screenshot({ path: path.join(ARTIFACTS_DIR, 'model-run.png') });
    expect(browser!.errors).toEqual([]);
  }, 150_000);

  it('cancels a queued prompt from the panel and interrupts the running one', async (context) => {
    if (!server) return context.skip(skipReason);
    if (!hasDemoModel()) return context.skip('the server has no demo model or sample clip yet');
    await openEditor();
    await page().click('#new-workflow');
    // All 64 frames of the sample at 200 steps: far longer than the clicks below.
    await dropFile(Buffer.from(JSON.stringify(demoPrompt({ frames: 0, size: 128, steps: 200 }))), 'long.json', 'application/json');
    await page().waitForFunction(() => (globalThis as Json).app.editor.serialize().nodes.length === 8);
    await recordEvents();
    await queueWithKeyboard();
    await page().waitForFunction(() => (globalThis as Json).seenEvents.some(([type, d]: Json) => type === 'progress' && d.node === '5'));
    // The sampler is the running node, with its progress bar filling and its frame and step shown.
    const running = await page().evaluate(() => {
      const { app, graph } = (globalThis as Json).app;
      return { node: app.runState.runningNode, bar: graph.getNodeById(5).progress, detail: app.runState.progress.get('5') };
    });
    expect(running.node).toBe('5');
    expect(running.bar).toBeGreaterThan(0);
    expect(running.detail).toMatchObject({ steps: 200, frames: expect.any(Number) });
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    await page().screenshot({ path: path.join(ARTIFACTS_DIR, 'running.png') });

    await page().click('#queue-button');
    await page().click('#queue-panel-button');
    const cancel = page().locator('#queue-panel').getByRole('button', { name: 'Cancel' });
    await cancel.waitFor();
    const queuedId = await cancel.locator('xpath=..').getAttribute('data-prompt-id');
    await cancel.click();
    await cancel.waitFor({ state: 'detached' });

    await page().click('#interrupt-button');
    await waitForPhase('interrupted');
    const queue = (await (await fetch(`${server.url}/queue`)).json()) as Json;
    expect(queue.queue_pending).toEqual([]);
    const history = (await (await fetch(`${server.url}/history`)).json()) as Json;
    expect(Object.keys(history)).not.toContain(queuedId);
    await page().click('#queue-panel-button');
  });
});

function hasDemoModel(): boolean {
  const models: string[] = objectInfo.LoadModel?.input.required.model[0] ?? [];
  const clips: string[] = objectInfo.LoadVideo?.input.required.video[0] ?? [];
  return models.includes('limelight-demo') && clips.includes('limelight-sample.mp4');
}

/** A video-to-video prompt on the demo model and the sample clip (frames 0 = all of them). */
function demoPrompt({ frames, size, steps }: { frames: number; size: number; steps: number }) {
  return {
    '1': { class_type: 'LoadModel', inputs: { model: 'limelight-demo', device: 'cpu' } },
    '2': { class_type: 'LoadVideo', inputs: { video: 'limelight-sample.mp4', frame_load_cap: frames, width: size, height: size } },
    '3': { class_type: 'TextEncode', inputs: { clip: ['1', 1], text: 'a glowing orb' } },
    '4': { class_type: 'VAEEncode', inputs: { vae: ['1', 2], image: ['2', 0] } },
    '5': { class_type: 'Sampler', inputs: { model: ['1', 0], positive: ['3', 0], latent: ['4', 0], seed: 7, steps, cfg: 1, denoise: 1, batch_size: 2 } },
    '6': { class_type: 'VAEDecode', inputs: { vae: ['1', 2], samples: ['5', 0] } },
    '7': { class_type: 'PreviewImage', inputs: { images: ['6', 0] } },
    '8': { class_type: 'Encode', inputs: { images: ['6', 0], filename_prefix: 'limelight/e2e' } },
  };
}

async function solidPng(colour: string): Promise<Buffer> {
  return sharp({ create: { width: 16, height: 16, channels: 3, background: colour } }).png().toBuffer();
}

/** An mp4 carrying the workflow the way Limelight's Encode node writes it (`-movflags use_metadata_tags`). */
function makeVideoWithWorkflow(workflowJson: Json): Buffer {
  const file = path.join(tmpdir(), `limelight-e2e-${process.pid}.mp4`);
  const args = ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=blue:s=64x64:d=0.2', '-metadata', `workflow=${JSON.stringify(workflowJson)}`];
  execFileSync(toolPath('ffmpeg'), [...args, '-movflags', 'use_metadata_tags', '-pix_fmt', 'yuv420p', file]);
  const bytes = readFileSync(file);
  rmSync(file);
  return bytes;
}

/** Drops a file on the canvas (by default its middle), as a user dragging it from the desktop would. */
async function dropFile(bytes: Buffer, name: string, type: string, at?: { x: number; y: number }): Promise<void> {
  const box = (await page().locator('#graph-canvas').boundingBox())!;
  const { x, y } = at ?? { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  await page().evaluate(
    ({ base64, name, type, x, y }) => {
      const data = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const g = globalThis as Json;
      const transfer = new g.DataTransfer();
      transfer.items.add(new g.File([data], name, { type }));
      const target = g.document.getElementById('graph-canvas');
      for (const eventType of ['dragenter', 'dragover', 'drop']) {
        target.dispatchEvent(new g.DragEvent(eventType, { dataTransfer: transfer, clientX: x, clientY: y, bubbles: true, cancelable: true }));
      }
    },
    { base64: bytes.toString('base64'), name, type, x, y },
  );
}
