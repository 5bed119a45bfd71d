// The editor in Chromium against the real server: runs on the demo model (progress with frames and
// steps, previews), cancelling and interrupting, reconnecting after a restart.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ARTIFACTS_DIR } from './harness.ts';
import { browser, demoPrompt, dropFile, examples, hasDemoModel, type Json, objectInfo, openEditor, page, queueWithKeyboard, recordEvents, runState, seenEvents, server, setupEditor, skipReason, waitForPhase, workflow } from './editor-session.ts';

setupEditor();

describe('runs on the demo model in the editor', () => {
  it('runs the default workflow on the demo model, with progress on the nodes and the output previewed', async (context) => {
    if (!server) return context.skip(skipReason);
    const models: string[] = objectInfo.LoadModel?.input.required.model[0] ?? [];
    if (examples.length === 0 || models.length === 0) return context.skip('the server has no example workflows or no demo model yet');
    await openEditor();
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
});
