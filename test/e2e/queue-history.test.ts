// The Queue & history panel in real Chromium against the real server: a past run shows its workflow's
// name, time, duration, outcome and output thumbnail; loading it brings its outputs back on the nodes,
// and they survive a reload; an interrupted run reads "interrupted"; Clear queue and Clear history.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { browser, hasDemoModel, openEditor, page, server, setupEditor, skipReason, solidPng, type Json } from './editor-session.ts';
import { ARTIFACTS_DIR } from './harness.ts';

setupEditor();

async function reload(): Promise<void> {
  await page().reload();
  await page().waitForSelector('body[data-ready="true"]');
}

async function post(route: string, body: unknown): Promise<Json> {
  const response = await fetch(`${server!.url}${route}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return response.json();
}

/** Load Image → Preview Image on an uploaded picture: a run with an image output and no model. */
async function previewWorkflow(): Promise<Json> {
  const png = await solidPng('#3080ff');
  const form = new FormData();
  form.append('image', new Blob([png], { type: 'image/png' }), 'history-thumb.png');
  const uploaded = (await (await fetch(`${server!.url}/upload/image`, { method: 'POST', body: form })).json()) as Json;
  return {
    last_node_id: 2,
    last_link_id: 1,
    nodes: [
      { id: 1, type: 'LoadImage', pos: [60, 80], size: [280, 120], flags: {}, order: 0, mode: 0, inputs: [], outputs: [{ name: 'IMAGE', type: 'IMAGE', links: [1] }, { name: 'MASK', type: 'MASK', links: null }], properties: {}, widgets_values: { image: uploaded.name } },
      { id: 2, type: 'PreviewImage', pos: [420, 80], size: [280, 300], flags: {}, order: 1, mode: 0, inputs: [{ name: 'images', type: 'IMAGE', link: 1 }], outputs: [], properties: {}, widgets_values: { max_frames: 8 } },
    ],
    links: [[1, 1, 0, 2, 0, 'IMAGE']],
    groups: [],
    config: {},
    extra: {},
    version: 0.4,
  };
}

/** The history entries the panel lists, as shown. */
function panelHistory(): Promise<{ promptId: string; name: string; detail: string; outcome: string; thumbnail: number }[]> {
  return page().evaluate(() => {
    const doc = (globalThis as Json).document;
    const heading = [...doc.querySelectorAll('#queue-panel .heading')].find((h: Json) => h.textContent.startsWith('History'));
    const items: Json[] = [];
    for (let next = heading?.nextElementSibling; next?.classList.contains('item'); next = next.nextElementSibling) items.push(next);
    return items.map((item) => ({
      promptId: item.dataset.promptId,
      name: item.querySelector('.name').textContent,
      detail: item.querySelector('.detail').textContent,
      outcome: item.querySelector('.outcome').textContent,
      thumbnail: item.querySelector('img.thumbnail')?.naturalWidth ?? item.querySelector('video.thumbnail')?.readyState ?? 0,
    }));
  });
}

/** A long video-to-video run on the demo model (all frames of the sample clip, many steps). */
function longPrompt(): Json {
  return {
    '1': { class_type: 'LoadModel', inputs: { model: 'limelight-demo', device: 'cpu' } },
    '2': { class_type: 'LoadVideo', inputs: { video: 'limelight-sample.mp4', frame_load_cap: 0, skip_first_frames: 0, select_every_nth: 1, force_rate: 0, width: 128, height: 128 } },
    '3': { class_type: 'TextEncode', inputs: { clip: ['1', 1], text: 'a red wall' } },
    '4': { class_type: 'VAEEncode', inputs: { vae: ['1', 2], image: ['2', 0] } },
    '5': { class_type: 'Sampler', inputs: { model: ['1', 0], positive: ['3', 0], latent: ['4', 0], seed: 1, steps: 200, cfg: 1, sampler: 'euler', temperature: 0, denoise: 1, batch_size: 2, noise_per_frame: false } },
    '6': { class_type: 'VAEDecode', inputs: { vae: ['1', 2], samples: ['5', 0] } },
    '7': { class_type: 'PreviewImage', inputs: { images: ['6', 0], max_frames: 4 } },
  };
}

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('Queue & history', () => {
  it('lists a run with its name, time, duration, outcome and thumbnail; loading it brings its outputs back, across a reload', async (context) => {
    if (!server) return context.skip(skipReason);
    await openEditor();
    const workflow = await previewWorkflow();
    await page().evaluate((workflow) => (globalThis as Json).app.app.loadWorkflow(workflow, 'thumb-test.json'), workflow);
    await page().click('#queue-button');
    await page().waitForFunction(() => (globalThis as Json).app.app.runState.phase === 'done');
    await page().click('#queue-panel-button');
    await page().waitForFunction(() => (globalThis as Json).document.querySelector('#queue-panel img.thumbnail')?.naturalWidth > 0);
    const [run] = await panelHistory();
    expect(run).toMatchObject({ name: 'thumb-test', outcome: 'done' });
    expect(run.thumbnail).toBe(16);
    // "14:03:12 · 85 ms · 2 nodes · #0"
    expect(run.detail).toMatch(/^\d{1,2}:\d{2}:\d{2}.* · \d+(\.\d)? m?s · 2 nodes · #\d+$/);
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    await page().screenshot({ path: path.join(ARTIFACTS_DIR, 'queue-history.png') });

    await page().click('#new-workflow');
    await page().locator(`#queue-panel .item[data-prompt-id="${run.promptId}"] button`).click();
    const previewShown = () =>
      page().waitForFunction(() => {
        const { graph } = (globalThis as Json).app;
        const node = graph.getNodeById(2);
        const images = node?.constructor.view.previewImages(node) ?? [];
        return images.length === 1 && images[0].complete && images[0].naturalWidth === 16;
      });
    await previewShown();
    expect(await page().evaluate(() => (globalThis as Json).app.app.workflowName)).toBe('thumb-test');
    await reload();
    await previewShown();
    expect(browser!.errors).toEqual([]);
  });

  it('says "interrupted" for an interrupted run, and clears the queue and the history', async (context) => {
    if (!server) return context.skip(skipReason);
    if (!hasDemoModel()) return context.skip('the server has no demo model or sample clip yet');
    // The reload above closed the panel.
    await page().click('#queue-panel-button');
    const running = await post('/prompt', { prompt: longPrompt(), extra_data: { workflow_name: 'long run' } });
    const waiting = await post('/prompt', { prompt: longPrompt() });
    for (const queued of [running, waiting]) expect(queued).toMatchObject({ prompt_id: expect.any(String) });
    await waitFor(() => fetch(`${server!.url}/queue`).then((r) => r.json() as Promise<Json>), (q) => q.queue_running[0]?.[1] === running.prompt_id, 'the run to start');
    await page().locator(`#queue-panel .item[data-prompt-id="${waiting.prompt_id}"]`).waitFor();
    await page().click('#clear-queue');
    await page().locator(`#queue-panel .item[data-prompt-id="${waiting.prompt_id}"]`).waitFor({ state: 'detached' });
    expect(((await (await fetch(`${server!.url}/queue`)).json()) as Json).queue_pending).toEqual([]);

    await post('/interrupt', {});
    await page().locator(`#queue-panel .item[data-prompt-id="${running.prompt_id}"] .outcome`, { hasText: 'interrupted' }).waitFor({ timeout: 60_000 });
    const run = (await panelHistory()).find((r) => r.promptId === running.prompt_id)!;
    expect(run).toMatchObject({ name: 'long run', outcome: 'interrupted' });

    await page().click('#clear-history');
    await page().locator('#queue-panel .empty', { hasText: 'no runs yet' }).waitFor();
    expect(await (await fetch(`${server!.url}/history`)).json()).toEqual({});
  }, 120_000);
});
