// The editor in Chromium against the real server, on one small graph built step by step: search, links
// and widgets, undo and copy/paste, queueing, errors on the nodes at fault, saving and reloading (and
// reopening from a dropped video), placeholders for unknown nodes, and the queue panel.
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ARTIFACTS_DIR } from './harness.ts';
import { addNodes, browser, drag, dropFile, type Json, makeVideoWithWorkflow, objectInfo, openEditor, page, queueWithKeyboard, recordEvents, runState, seenEvents, server, setupEditor, skipReason, slotPoint, waitForErrorOn, waitForPhase, widgetPoint, workflow } from './editor-session.ts';

setupEditor();

describe('building a graph in the editor', () => {
  let ids: { float: number; math: number; save: number };

  it('adds nodes from the search box, links them by dragging and edits a widget', async (context) => {
    if (!server) return context.skip(skipReason);
    await openEditor();
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
    const file = JSON.parse(readFileSync((await download.path())!, 'utf8'));
    const { ds, ...extra } = file.extra;
    const saved = { ...file, extra };
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
});
