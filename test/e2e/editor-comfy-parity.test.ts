// What a ComfyUI user reaches for in the first ten minutes (issue 17, items 1–6 and 9), in real Chromium
// against the real server, in a 1024×640 window: readable fit and minimap, the inline prompt box, videos
// clipped to the canvas, undoable workflow loads with a name and an unsaved marker, the node menu with
// bypass / mute / groups, one undo step per drag, and the smaller points (status, linked widgets, link
// colours, tooltips, Load Image thumbnail, mask painter frames, empty canvas, placeholders).
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { addNodes, browser, page, server, setupEditor, skipReason, workflow, type Json } from './editor-session.ts';
import { ARTIFACTS_DIR } from './harness.ts';

setupEditor();
beforeAll(async () => {
  await browser?.page.setViewportSize({ width: 1024, height: 640 });
});

/** Opens the editor on the default workflow (the autosave of an earlier test forgotten), or on the autosave. */
async function openEditor({ fresh = true } = {}): Promise<void> {
  if (fresh) await page().goto(`${server!.url}/favicon.ico`).then(() => page().evaluate(() => (globalThis as Json).localStorage.clear()), () => undefined);
  await page().goto(server!.url);
  await page().waitForSelector('body[data-ready="true"]');
}

function evaluate<T>(fn: (app: Json) => T): Promise<T> {
  return page().evaluate(`(${fn.toString()})(globalThis.app)`) as Promise<T>;
}

/** The page rectangle of a part of a node, given in node coordinates `[x, y, w, h]`. */
async function nodeRect(nodeId: number, part: [number, number, number, number]): Promise<{ x: number; y: number; width: number; height: number }> {
  return page().evaluate(
    ({ nodeId, part }) => {
      const { graph, canvas } = (globalThis as Json).app;
      canvas.draw(true, true);
      const node = graph.getNodeById(nodeId);
      const [x, y] = canvas.convertOffsetToCanvas([node.pos[0] + part[0], node.pos[1] + part[1]]);
      const rect = canvas.canvas.getBoundingClientRect();
      const scale = canvas.ds.scale;
      return { x: rect.left + x, y: rect.top + y, width: part[2] * scale, height: part[3] * scale };
    },
    { nodeId, part },
  );
}

/** Grey levels of a page region, row by row. */
async function pixels(clip: { x: number; y: number; width: number; height: number }): Promise<{ width: number; height: number; rgb: Buffer }> {
  const png = await page().screenshot({ clip });
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, rgb: data };
}

function link(from: number, fromSlot: number, to: number, toInput: string): Promise<void> {
  return page().evaluate(
    ({ from, fromSlot, to, toInput }) => {
      const { graph, editor } = (globalThis as Json).app;
      const target = graph.getNodeById(to);
      graph.getNodeById(from).connect(fromSlot, target, target.inputs.findIndex((i: Json) => i.name === toInput));
      editor.scheduleRecord();
    },
    { from, fromSlot, to, toInput },
  );
}

async function newWorkflow(): Promise<void> {
  await page().click('#new-workflow');
  await page().waitForFunction(() => (globalThis as Json).app.graph.nodes.length === 0);
}

/** Clears the selection (a click on the canvas would, but litegraph settles a click only after the double-click delay). */
async function deselectAll(): Promise<void> {
  await page().evaluate(() => {
    const { canvas } = (globalThis as Json).app;
    canvas.deselectAll();
    canvas.draw(true, true);
  });
}

async function selectOnly(nodeId: number): Promise<void> {
  await page().evaluate((id) => {
    const { graph, canvas } = (globalThis as Json).app;
    canvas.deselectAll();
    canvas.select(graph.getNodeById(id));
  }, nodeId);
  await page().focus('#graph-canvas');
  await page().evaluate(() => new Promise((resolve) => (globalThis as Json).requestAnimationFrame(resolve)));
}

/** Queues with the Queue button and returns the prompt the editor sent (over the socket or HTTP). */
async function queueAndCapture(): Promise<Record<string, Json>> {
  await page().evaluate(() => {
    const g = globalThis as Json;
    g.sentPrompt = null;
    g.previousRun = g.app.app.runState.promptId;
    if (g.app.api.queueWorkflow.spied) return;
    const send = g.app.api.queueWorkflow.bind(g.app.api);
    g.app.api.queueWorkflow = Object.assign((workflow: Json, prompt: Json) => {
      g.sentPrompt = prompt;
      return send(workflow, prompt);
    }, { spied: true });
  });
  await page().click('#queue-button');
  return (await page().waitForFunction(() => (globalThis as Json).sentPrompt)).jsonValue();
}

/** A workflow without litegraph's computed execution order (`order`), which is not the user's. */
function withoutOrder(workflow: Json): Json {
  return { ...workflow, nodes: workflow.nodes.map(({ order: _order, ...node }: Json) => node) };
}

/** Waits for the run queued last (not the one before it) to finish. */
async function waitForRunEnd(): Promise<void> {
  await page().waitForFunction(() => {
    const { promptId, phase } = (globalThis as Json).app.app.runState;
    return promptId !== (globalThis as Json).previousRun && ['done', 'failed'].includes(phase);
  }, undefined, { timeout: 60_000 });
}

describe('the editor for a ComfyUI user, in a 1024×640 window', () => {
  it('1: a node added from search lands in the middle of the fitted view', async (context) => {
    if (!server) return context.skip(skipReason);
    await openEditor();
    const placed = await page().evaluate(() => {
      const { editor, canvas } = (globalThis as Json).app;
      const node = editor.addNode('Float');
      const [x, y] = canvas.convertOffsetToCanvas([node.pos[0] + node.size[0] / 2, node.pos[1] + node.size[1] / 2]);
      return { x, y, width: canvas.canvas.clientWidth, height: canvas.canvas.clientHeight, scale: canvas.ds.scale };
    });
    expect(placed.scale).not.toBe(1); // a fitted view, where graph and canvas coordinates differ
    expect(Math.abs(placed.x - placed.width / 2)).toBeLessThan(2);
    expect(Math.abs(placed.y - placed.height / 2)).toBeLessThan(2);
  });

  it('1: the menu bar keeps every control on one row, inside the window', async (context) => {
    if (!server) return context.skip(skipReason);
    await openEditor();
    const boxes = await page().evaluate(() =>
      [...(globalThis as Json).document.querySelectorAll('#menu-bar > button, #menu-bar > select')].map((e: Json) => {
        const r = e.getBoundingClientRect();
        return { id: e.id, middle: (r.top + r.bottom) / 2, right: r.right, height: r.height };
      }),
    );
    expect(boxes.length).toBeGreaterThan(8);
    for (const box of boxes) {
      expect(box.right, box.id).toBeLessThanOrEqual(1024);
      // One line of text each (a wrapped label doubles the height), all on one row.
      expect(box.height, box.id).toBeLessThan(30);
      expect(Math.abs(box.middle - boxes[0]!.middle), box.id).toBeLessThan(3);
    }
  });

  it('1: opens the default workflow readable (titles drawn ≥ 10 CSS px), with a minimap, and uses a readable saved view', async (context) => {
    if (!server) return context.skip(skipReason);
    await openEditor();
    const view = await evaluate((app) => ({ scale: app.canvas.ds.scale, lowQuality: app.canvas.low_quality }));
    expect(view.lowQuality).toBe(false);
    // Widget values are drawn at 12 px × scale, titles at 14 px × scale.
    expect(12 * view.scale).toBeGreaterThanOrEqual(10);

    // From the pixels: the "Keyframe masks" title (ascender K/f, descender y) is drawn and ≥ 10 px tall.
    const id = await evaluate((app) => app.graph.nodes.find((n: Json) => n.title === 'Keyframe masks').id);
    const title = await nodeRect(id, [26, -30, 150, 30]);
    const { width, height, rgb } = await pixels(title);
    const textRows: number[] = [];
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = (y * width + x) * 3;
        if (rgb[i] > 120 && rgb[i + 1] > 120 && rgb[i + 2] > 120) {
          textRows.push(y);
          break;
        }
      }
    }
    expect(textRows.length).toBeGreaterThan(0);
    expect(textRows.at(-1)! - textRows[0] + 1).toBeGreaterThanOrEqual(10);
    await page().screenshot({ path: path.join(ARTIFACTS_DIR, 'small-window-default.png') });

    // Part of the graph is out of view: the minimap shows it, and a click on it moves the view.
    const minimap = page().locator('.minimap');
    expect(await minimap.isVisible()).toBe(true);
    const before = await evaluate((app) => [...app.canvas.ds.offset]);
    const box = (await minimap.boundingBox())!;
    await page().mouse.click(box.x + box.width - 8, box.y + box.height / 2);
    const after = await evaluate((app) => [...app.canvas.ds.offset]);
    expect(after[0]).toBeLessThan(before[0]);

    // A workflow's saved view is used when readable, ignored (fitted instead) when not.
    const opened = await page().evaluate(() => {
      const { app, editor, canvas } = (globalThis as Json).app;
      const saved = editor.serialize();
      app.loadWorkflow({ ...saved, extra: { ds: { scale: 1.25, offset: [-300, -40] } } }, 'readable');
      const readable = { scale: canvas.ds.scale, offset: [...canvas.ds.offset] };
      app.loadWorkflow({ ...saved, extra: { ds: { scale: 0.3, offset: [0, 0] } } }, 'tiny');
      return { readable, tiny: canvas.ds.scale };
    });
    expect(opened.readable).toEqual({ scale: 1.25, offset: [-300, -40] });
    expect(opened.tiny).toBeGreaterThanOrEqual(10 / 12);
    // And Save / the autosave write the current view.
    expect(await evaluate((app) => app.editor.serializeWithView().extra.ds.scale)).toBe(opened.tiny);
  });

  it('2: edits a prompt in an inline text box on the node, without a popup or a trailing newline', async (context) => {
    if (!server) return context.skip(skipReason);
    await openEditor();
    const id = await evaluate((app) => app.graph.nodes.find((n: Json) => n.type === 'TextEncode').id);
    const box = page().locator(`textarea.node-textarea[data-node="${id}"][data-widget="text"]`);
    expect(await box.inputValue()).toBe('red brick wall, golden ball');
    await box.click();
    await page().keyboard.press('Control+a');
    await page().keyboard.type('blue sky');
    await page().keyboard.press('Enter');
    await page().keyboard.type('green grass');
    // Clicking the canvas ends the edit; no value dialog ever opened.
    await page().mouse.click(900, 120);
    expect(await page().locator('.graphdialog').count()).toBe(0);
    const node = (await workflow()).nodes.find((n: Json) => n.id === id);
    expect(node.widgets_values.text).toBe('blue sky\ngreen grass');
    // Delete typed in the box edits the text, it doesn't delete the node.
    await box.click();
    await page().keyboard.press('End');
    await page().keyboard.press('Backspace');
    await page().mouse.click(900, 120);
    const after = await workflow();
    expect(after.nodes.find((n: Json) => n.id === id).widgets_values.text).toBe('blue sky\ngreen gras');
    // One undo step for the whole edit.
    await page().focus('#graph-canvas');
    await page().keyboard.press('Control+z');
    expect((await workflow()).nodes.find((n: Json) => n.id === id).widgets_values.text).toBe('blue sky\ngreen grass');
  });

  it('3: keeps output videos and text boxes under the Queue & history panel, clipped to the canvas', async (context) => {
    if (!server) return context.skip(skipReason);
    await openEditor();
    // The Encode node shows a video (the sample clip stands in for a run's output).
    await page().evaluate(() => {
      const { graph, app, canvas } = (globalThis as Json).app;
      const encode = graph.nodes.find((n: Json) => n.type === 'Encode');
      app.runState.outputs.set(String(encode.id), { videos: [{ filename: 'limelight-sample.mp4', type: 'input', format: 'video/mp4' }] });
      canvas.ds.offset = [-encode.pos[0] + 560, -encode.pos[1] + 60];
      app.editor.redraw();
    });
    await page().waitForSelector('video.node-video');
    await page().click('#queue-panel-button');
    const panel = (await page().locator('#queue-panel').boundingBox())!;
    const video = (await page().locator('video.node-video').boundingBox())!;
    // The video extends under the panel, and what is seen there is the panel.
    expect(video.x + video.width).toBeGreaterThan(panel.x + 20);
    const seen = await page().evaluate(({ x, y }) => (globalThis as Json).document.elementFromPoint(x, y)?.closest('#queue-panel') !== null, { x: panel.x + 20, y: video.y + video.height / 2 });
    expect(seen).toBe(true);
    await page().screenshot({ path: path.join(ARTIFACTS_DIR, 'small-window-video-under-panel.png') });
    await page().click('#queue-panel-button');
  });

  it('4: New, Examples, Open and history Load are undoable, with the workflow name and an unsaved-changes marker', async (context) => {
    if (!server) return context.skip(skipReason);
    await openEditor();
    const name = page().locator('#workflow-name');
    expect(await name.textContent()).toBe('hobbyist-keyframes');
    expect(await name.getAttribute('data-modified')).toBe('false');
    const original = await workflow();

    // An edit marks it modified (and the page title).
    await page().evaluate(() => {
      const { graph, editor } = (globalThis as Json).app;
      graph.nodes.find((n: Json) => n.type === 'Sampler').setWidgetValue('steps', 5);
      editor.scheduleRecord();
    });
    await page().waitForFunction(() => (globalThis as Json).document.querySelector('#workflow-name')?.getAttribute('data-modified') === 'true');
    expect(await page().title()).toMatch(/^● hobbyist-keyframes/);
    const edited = await workflow();

    // New replaces it, and Ctrl+Z brings the edited graph back, name and marker included.
    await newWorkflow();
    expect(await name.textContent()).toBe('Untitled');
    await page().focus('#graph-canvas');
    await page().keyboard.press('Control+z');
    expect(withoutOrder(await workflow())).toEqual(withoutOrder(edited));
    expect(await name.textContent()).toBe('hobbyist-keyframes');
    expect(await name.getAttribute('data-modified')).toBe('true');

    // Examples: the same.
    await page().selectOption('#examples', { label: await page().locator('#examples option').nth(2).textContent() ?? '' });
    await page().waitForFunction(() => (globalThis as Json).document.querySelector('#workflow-name')?.textContent !== 'hobbyist-keyframes');
    await page().keyboard.press('Control+z');
    expect(withoutOrder(await workflow())).toEqual(withoutOrder(edited));

    // Open… (a file): the same.
    const chooser = page().waitForEvent('filechooser');
    await page().click('#open-workflow');
    await (await chooser).setFiles({ name: 'mine.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(original)) });
    await page().waitForFunction(() => (globalThis as Json).document.querySelector('#workflow-name')?.textContent === 'mine');
    expect(await name.getAttribute('data-modified')).toBe('false');
    await page().keyboard.press('Control+z');
    expect(withoutOrder(await workflow())).toEqual(withoutOrder(edited));

    // History Load goes through the same path (the queue panel calls app.loadWorkflow).
    await page().evaluate((wf) => (globalThis as Json).app.app.loadWorkflow(wf, 'run-1234'), original);
    expect(await name.textContent()).toBe('run-1234');
    await page().keyboard.press('Control+z');
    expect(withoutOrder(await workflow())).toEqual(withoutOrder(edited));

    // The autosave keeps the unsaved edit, its name and its marker across a reload.
    await openEditor({ fresh: false });
    expect(await name.textContent()).toBe('hobbyist-keyframes');
    expect(await name.getAttribute('data-modified')).toBe('true');
    expect((await workflow()).nodes.find((n: Json) => n.type === 'Sampler').widgets_values.steps).toBe(5);

    // Saving clears the marker.
    const download = page().waitForEvent('download');
    await page().click('#save-workflow');
    expect((await download).suggestedFilename()).toBe('hobbyist-keyframes.json');
    expect(await name.getAttribute('data-modified')).toBe('false');
  });

  it('5: the node menu offers Bypass, Mute, colours, pin, title and remove; Ctrl+B changes what runs; Ctrl+M mutes; Ctrl+G groups', async (context) => {
    if (!server) return context.skip(skipReason);
    await openEditor();
    await newWorkflow();
    const [float, math, save] = await addNodes([
      ['Float', 40, 80],
      ['Math', 330, 80],
      ['SaveText', 640, 80],
    ]);
    await page().evaluate(({ float, math }) => {
      const { graph } = (globalThis as Json).app;
      graph.getNodeById(float).setWidgetValue('value', 10);
      graph.getNodeById(math).setWidgetValue('b', 4);
    }, { float, math });
    await link(float, 0, math, 'a');
    await link(math, 0, save, 'value');

    // The menu: what works, not litegraph's Mode list nor Convert to Subgraph.
    const title = await nodeRect(math, [60, -15, 1, 1]);
    await page().mouse.click(title.x, title.y, { button: 'right' });
    const entries = await page().locator('.litecontextmenu .litemenu-entry').allTextContents();
    for (const expected of ['Title', 'Bypass (Ctrl+B)', 'Mute (Ctrl+M)', 'Pin', 'Colors', 'Remove']) expect(entries).toContain(expected);
    expect(entries.some((e) => /Subgraph|^Mode$|Properties/.test(e))).toBe(false);
    await page().keyboard.press('Escape');
    await page().mouse.click(500, 500);
    await deselectAll();

    let prompt = await queueAndCapture();
    await waitForRunEnd();
    expect(prompt[String(math)]).toBeDefined();
    expect(await evaluate((app) => app.app.runState.outputs.get(String(app.graph.nodes.find((n: Json) => n.type === 'SaveText').id))?.text)).toEqual(['14']);

    // Ctrl+B bypasses Math: it is not sent, SaveText gets the Float directly, and the run shows 10.
    await selectOnly(math);
    await page().keyboard.press('Control+b');
    expect((await workflow()).nodes.find((n: Json) => n.id === math).mode).toBe(4);
    const body = await nodeRect(math, [200, 30, 10, 10]);
    await deselectAll();
    const { rgb } = await pixels(body);
    // Bypassed: a purple tint (red and blue above green).
    expect(rgb[0] - rgb[1]).toBeGreaterThan(15);
    expect(rgb[2] - rgb[1]).toBeGreaterThan(15);
    prompt = await queueAndCapture();
    await waitForRunEnd();
    expect(prompt[String(math)]).toBeUndefined();
    expect(prompt[String(save)].inputs.value).toEqual([String(float), 0]);
    expect(await evaluate((app) => app.app.runState.outputs.get(String(app.graph.nodes.find((n: Json) => n.type === 'SaveText').id))?.text)).toEqual(['10']);
    await page().screenshot({ path: path.join(ARTIFACTS_DIR, 'small-window-bypassed.png') });

    // Ctrl+B again runs it again; Ctrl+M mutes it: drawn faded, and not sent.
    const modeBecomes = (mode: number) => page().waitForFunction(({ id, mode }) => (globalThis as Json).app.graph.getNodeById(id).mode === mode, { id: math, mode }, { timeout: 5000 });
    await selectOnly(math);
    await page().keyboard.press('Control+b');
    await modeBecomes(0);
    await page().keyboard.press('Control+m');
    await modeBecomes(2);
    const muted = await pixels(await nodeRect(math, [200, 30, 10, 10]));
    expect(muted.rgb[0]).toBeLessThan(rgb[0]);
    await page().keyboard.press('Control+m');
    await modeBecomes(0);

    // Ctrl+G puts a group around the selection.
    await page().keyboard.press('Control+a');
    await page().keyboard.press('Control+g');
    const groups = (await workflow()).groups;
    expect(groups).toHaveLength(1);
    const [gx, gy, gw, gh] = groups[0].bounding;
    for (const node of (await workflow()).nodes) {
      expect(node.pos[0]).toBeGreaterThanOrEqual(gx);
      expect(node.pos[1]).toBeGreaterThanOrEqual(gy);
      expect(node.pos[0] + node.size[0]).toBeLessThanOrEqual(gx + gw);
      expect(node.pos[1] + node.size[1]).toBeLessThanOrEqual(gy + gh);
    }
  });

  it('6: one drag of a number is one undo step, and values stay on the widget’s step', async (context) => {
    if (!server) return context.skip(skipReason);
    await openEditor();
    await newWorkflow();
    const [math] = await addNodes([['Math', 100, 100]]);
    await page().evaluate(() => (globalThis as Json).app.canvas.draw(true, true));
    await page().waitForFunction(() => JSON.parse((globalThis as Json).app.editor.history.current).workflow.nodes.length === 1);
    const before = await evaluate((app) => app.editor.history.current);
    const row = await page().evaluate((id) => {
      const { graph } = (globalThis as Json).app;
      const node = graph.getNodeById(id);
      return node.widgets.find((w: Json) => w.name === 'b').y;
    }, math);
    const start = await nodeRect(math, [120, row + 10, 1, 1]);
    const mouse = page().mouse;
    await mouse.move(start.x, start.y);
    await mouse.down();
    for (let i = 1; i <= 40; i++) await mouse.move(start.x + i * 3, start.y);
    await mouse.up();
    const value = (await workflow()).nodes[0].widgets_values.b;
    expect(value).not.toBe(0);
    expect(Math.round(value * 100) / 100).toBe(value);
    await page().focus('#graph-canvas');
    await page().keyboard.press('Control+z');
    expect(await evaluate((app) => app.editor.history.current)).toBe(before);
    expect((await workflow()).nodes[0].widgets_values.b).toBe(0);
  });

  describe('9: the smaller things', () => {
    it('the status bar names the running node, a streamed clip\'s frames and time left, and does not count the running prompt as queued', async (context) => {
      if (!server) return context.skip(skipReason);
      await openEditor();
      const status = await page().evaluate(() => {
        const { api, graph } = (globalThis as Json).app;
        const sampler = graph.nodes.find((n: Json) => n.type === 'Sampler');
        const send = (type: string, detail: Json) => api.dispatchEvent(new CustomEvent(type, { detail }));
        send('execution_start', { prompt_id: 'p1' });
        send('status', { status: { exec_info: { queue_remaining: 1 } } });
        send('executing', { node: String(sampler.id), prompt_id: 'p1' });
        const alone = (globalThis as Json).document.querySelector('#run-status')!.textContent;
        send('status', { status: { exec_info: { queue_remaining: 3 } } });
        const withQueue = (globalThis as Json).document.querySelector('#run-status')!.textContent;
        send('progress', { node: String(sampler.id), value: 1, max: 8, prompt_id: 'p1', clip: { done: 16, total: 64, eta_seconds: 30 } });
        const streaming = (globalThis as Json).document.querySelector('#run-status')!.textContent;
        send('execution_success', { prompt_id: 'p1' });
        return { alone, withQueue, streaming };
      });
      expect(status.alone).toBe('running Sampler');
      expect(status.withQueue).toBe('running Sampler · 2 queued');
      // A streamed clip: frames done of the total and the time left.
      expect(status.streaming).toBe('running Sampler · frames 16/64 · 30 s left · 2 queued');
    });

    it('a linked input’s widget is greyed and cannot be edited (the example’s frame_count, a linked prompt)', async (context) => {
      if (!server) return context.skip(skipReason);
      await openEditor();
      const keyframes = await evaluate((app) => app.graph.nodes.find((n: Json) => n.type === 'KeyframeInterpolate').id);
      const state = await page().evaluate((id) => {
        const { graph, canvas } = (globalThis as Json).app;
        canvas.draw(true, true);
        const node = graph.getNodeById(id);
        const widget = node.widgets.find((w: Json) => w.name === 'frame_count');
        const onRow = node.getWidgetOnPos(node.pos[0] + 100, node.pos[1] + widget.y + 5);
        return { disabled: widget.computedDisabled, clickable: onRow?.name === 'frame_count' };
      }, keyframes);
      expect(state).toEqual({ disabled: true, clickable: false });

      // A Text node linked into the prompt: the prompt's text box goes away.
      const encode = await evaluate((app) => app.graph.nodes.find((n: Json) => n.type === 'TextEncode').id);
      const promptBoxVisible = () =>
        page().evaluate((id) => {
          (globalThis as Json).app.canvas.draw(true, true);
          const box = (globalThis as Json).document.querySelector(`textarea.node-textarea[data-node="${id}"][data-widget="text"]`);
          return box ? !box.hidden : false;
        }, encode);
      expect(await promptBoxVisible()).toBe(true);
      const [text] = await addNodes([['Text', -300, 500]]);
      await link(text, 0, encode, 'text');
      expect(await promptBoxVisible()).toBe(false);
    });

    it('IMAGE and INT links have clearly different colours', async (context) => {
      if (!server) return context.skip(skipReason);
      const [image, int] = await evaluate((app) => {
        const colours = app.canvas.constructor.link_type_colors;
        return [colours.IMAGE, colours.INT];
      });
      const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
      const distance = Math.hypot(...rgb(image).map((c, i) => c - rgb(int)[i]));
      expect(distance).toBeGreaterThan(100);
    });

    it('shows the node’s and the input’s description when the pointer rests on them', async (context) => {
      if (!server) return context.skip(skipReason);
      await openEditor();
      await newWorkflow();
      const [math] = await addNodes([['Math', 100, 100]]);
      const title = await nodeRect(math, [80, -15, 1, 1]);
      await page().mouse.move(title.x, title.y);
      await page().mouse.move(title.x + 2, title.y);
      const tip = page().locator('.graph-tooltip');
      await tip.waitFor({ state: 'visible' });
      expect(await tip.textContent()).toBe('Combines two numbers (e.g. frames × seconds, weight ÷ 2).');
      const output = await page().evaluate((id) => {
        const { graph, canvas } = (globalThis as Json).app;
        const [x, y] = canvas.convertOffsetToCanvas(graph.getNodeById(id).getOutputPos(1));
        const rect = canvas.canvas.getBoundingClientRect();
        return { x: rect.left + x, y: rect.top + y };
      }, math);
      await page().mouse.move(output.x, output.y);
      await page().mouse.move(output.x + 1, output.y);
      await page().waitForFunction(() => (globalThis as Json).document.querySelector('.graph-tooltip')?.textContent === 'the result rounded to the nearest integer');
    });

    it('Load Image shows its image; the mask painter paints on any video frame and on KeyframeInterpolate’s keyframes', async (context) => {
      if (!server) return context.skip(skipReason);
      await openEditor();
      const [load] = await addNodes([['LoadImage', 40, 700]]);
      const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 250, g: 40, b: 40 } } }).png().toBuffer();
      const uploaded = await page().evaluate(async ({ id, bytes }) => {
        const { graph, app } = (globalThis as Json).app;
        return app.uploadToNode(graph.getNodeById(id), 'image', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), 'red-square.png');
      }, { id: load, bytes: [...png] });
      expect(uploaded).toBe('red-square.png');
      await page().evaluate((id) => {
        const { graph, canvas } = (globalThis as Json).app;
        const node = graph.getNodeById(id);
        canvas.ds.scale = 1;
        canvas.ds.offset = [-node.pos[0] + 40, -node.pos[1] + 60];
        canvas.setDirty(true, true);
      }, load);
      await page().waitForFunction((id) => {
        const { graph, canvas } = (globalThis as Json).app;
        canvas.draw(true, true);
        return graph.getNodeById(id).size[1] > 200;
      }, load);
      const size = await evaluate((app) => [...app.graph.nodes.find((n: Json) => n.type === 'LoadImage').size]);
      const thumbnail = await pixels(await nodeRect(load, [size[0] / 2 - 4, size[1] - 120, 8, 8]));
      expect(thumbnail.rgb[0]).toBeGreaterThan(200);
      expect(thumbnail.rgb[1]).toBeLessThan(90);

      // The painter over the sample clip: a frame slider, and a button per keyframe (1, 30, 60).
      await page().evaluate((id) => {
        const { graph } = (globalThis as Json).app;
        graph.getNodeById(id).widgets.find((w: Json) => w.name === 'paint mask').callback();
      }, load);
      await page().waitForSelector('.mask-painter[data-ready]');
      const option = await page().locator('.mask-painter select option', { hasText: 'limelight-sample.mp4' }).getAttribute('value');
      await page().selectOption('.mask-painter select', option!);
      await page().waitForSelector('.mask-painter[data-frame="1"][data-ready]');
      expect(await page().locator('.mask-painter .frame-label').textContent()).toBe('1 / 64');
      expect(await page().locator('.mask-painter [data-keyframe]').allTextContents()).toEqual(['keyframe 1', 'keyframe 30', 'keyframe 60']);
      const backdrop = () => page().evaluate(() => {
        const canvas = (globalThis as Json).document.querySelector('.mask-painter .stage canvas') as Json;
        return [...canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data.filter((_: number, i: number) => i % 4000 === 0)];
      });
      const first = await backdrop();
      await page().click('.mask-painter [data-keyframe="30"]');
      await page().waitForSelector('.mask-painter[data-frame="30"][data-ready]');
      expect(await backdrop()).not.toEqual(first);
      await page().locator('.mask-painter .frames input[type=range]').fill('45');
      await page().waitForSelector('.mask-painter[data-frame="45"][data-ready]');
      const stage = (await page().locator('.mask-painter canvas.mask').boundingBox())!;
      await page().mouse.move(stage.x + 40, stage.y + 40);
      await page().mouse.down();
      await page().mouse.move(stage.x + 120, stage.y + 100, { steps: 4 });
      await page().mouse.up();
      await page().click('[data-action="save-mask"]');
      await page().waitForSelector('.mask-painter', { state: 'detached' });
      const saved = (await workflow()).nodes.find((n: Json) => n.id === load).widgets_values.image;
      expect(saved).toMatch(/^mask-frame045-\d+\.png$/);
    });

    it('an empty canvas says how to start', async (context) => {
      if (!server) return context.skip(skipReason);
      await openEditor();
      await newWorkflow();
      const canvas = (await page().locator('#graph-canvas').boundingBox())!;
      const { width, height, rgb } = await pixels({ x: canvas.x + canvas.width / 2 - 150, y: canvas.y + canvas.height / 2 - 45, width: 300, height: 40 });
      let bright = 0;
      for (let i = 0; i < width * height * 3; i += 3) if (rgb[i] > 120) bright++;
      expect(bright).toBeGreaterThan(100);
      await page().screenshot({ path: path.join(ARTIFACTS_DIR, 'small-window-empty.png') });
    });

    it('a placeholder shows its saved values under its sockets and its explanation outside the node', async (context) => {
      if (!server) return context.skip(skipReason);
      await openEditor();
      const unknown = {
        nodes: [
          {
            id: 1,
            type: 'SomeCustomSampler',
            pos: [200, 200],
            size: [220, 110],
            flags: {},
            mode: 0,
            inputs: [{ name: 'model', type: 'MODEL', link: null }],
            outputs: [{ name: 'LATENT', type: 'LATENT', links: null }, { name: 'IMAGE', type: 'IMAGE', links: null }],
            properties: {},
            widgets_values: [123456, 'euler', 7.5],
          },
        ],
        links: [],
      };
      const drawn = await page().evaluate((wf) => {
        const { app, graph, canvas } = (globalThis as Json).app;
        app.loadWorkflow(wf, 'custom');
        const node = graph.getNodeById(1);
        const texts: [string, number][] = [];
        const original = (globalThis as Json).CanvasRenderingContext2D.prototype.fillText;
        (globalThis as Json).CanvasRenderingContext2D.prototype.fillText = function (this: Json, text: string, x: number, y: number) {
          const m = this.getTransform();
          const [, ny] = canvas.convertCanvasToOffset([0, (m.f + m.d * y) / (this.canvas.width / this.canvas.getBoundingClientRect().width)]);
          texts.push([text, ny - node.pos[1]]);
          return original.call(this, text, x, y);
        };
        try {
          canvas.draw(true, true);
        } finally {
          (globalThis as Json).CanvasRenderingContext2D.prototype.fillText = original;
        }
        return { texts, outputsBottom: node.getOutputPos(1)[1] - node.pos[1] + 8, height: node.size[1] };
      }, unknown);
      const at = (pattern: RegExp) => drawn.texts.filter(([text]) => pattern.test(text)).map(([, y]) => y);
      for (const value of ['123456', 'euler', '7.5']) {
        const ys = at(new RegExp(`^${value.replace('.', '\\.')}$`));
        expect(ys.length).toBe(1);
        expect(ys[0]).toBeGreaterThan(drawn.outputsBottom);
        expect(ys[0]).toBeLessThanOrEqual(drawn.height);
      }
      const explanation = at(/Unknown node type/);
      expect(explanation.length).toBeGreaterThan(0);
      for (const y of explanation) expect(y).toBeLessThan(0 - 20);
      // The saved size is kept (a round trip leaves it alone).
      expect((await workflow()).nodes[0].size).toEqual([220, 110]);
      await page().screenshot({ path: path.join(ARTIFACTS_DIR, 'small-window-placeholder.png') });
    });
  });
});
