// One editor session per e2e test file: the real server, the built client and Chromium, opened before the
// file's tests and closed after them, plus the page helpers the tests drive the editor with. Tests run on
// whatever nodes `/object_info` offers: graphs are built from the trivial nodes (Float, Math, SaveText);
// steps that need the media and model nodes run when those nodes exist and say so when they don't.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll } from 'vitest';
import { toolPath } from '../../server/media/binaries.ts';
import { buildClient, openBrowser, startServer, type BrowserSession, type RunningServer } from './harness.ts';

// In-page code reads the editor through `window.app` (typed loosely: the page is not part of this program).
/* eslint-disable @typescript-eslint/no-explicit-any */
export type Json = any;

export let server: RunningServer | null = null;
export let browser: BrowserSession | null = null;
export let skipReason = '';
export let objectInfo: Record<string, Json> = {};
export let examples: { name: string; file: string }[] = [];

/** Registers the session's start and stop with the calling test file. */
export function setupEditor(): void {
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
}

export function page(): Page {
  return browser!.page;
}

export async function openEditor(): Promise<void> {
  await page().goto(server!.url);
  await page().waitForSelector('body[data-ready="true"]');
}

/** The editor's serialized workflow. */
export function workflow(): Promise<Json> {
  return page().evaluate(() => (globalThis as Json).app.editor.serialize());
}

/** Where a node's slot is on the page (graph coordinates through the canvas's view, then the page). */
export async function slotPoint(nodeId: number, kind: 'input' | 'output', slot: number): Promise<{ x: number; y: number }> {
  return page().evaluate(
    ({ nodeId, kind, slot }) => {
      const { graph, canvas } = (globalThis as Json).app;
      canvas.draw(true, true); // lays out a node added since the last frame
      const node = graph.getNodeById(nodeId);
      const pos = kind === 'input' ? node.getInputPos(slot) : node.getOutputPos(slot);
      const [x, y] = canvas.convertOffsetToCanvas(pos);
      const rect = canvas.canvas.getBoundingClientRect();
      return { x: rect.left + x, y: rect.top + y };
    },
    { nodeId, kind, slot },
  );
}

/** Where a widget is on the page, once the canvas has laid the node out (widgets get their row then). */
export async function widgetPoint(nodeId: number, widgetName: string, fraction: number): Promise<{ x: number; y: number }> {
  const handle = await page().waitForFunction(
    ({ nodeId, widgetName, fraction }) => {
      const { graph, canvas } = (globalThis as Json).app;
      const node = graph.getNodeById(nodeId);
      const widget = node.widgets.find((w: Json) => w.name === widgetName);
      if (!(widget.y > 0)) return canvas.setDirty(true, true);
      const [x, y] = canvas.convertOffsetToCanvas([node.pos[0] + 15 + (node.size[0] - 30) * fraction, node.pos[1] + widget.y + 10]);
      const rect = canvas.canvas.getBoundingClientRect();
      return { x: rect.left + x, y: rect.top + y };
    },
    { nodeId, widgetName, fraction },
  );
  return (await handle.jsonValue()) as { x: number; y: number };
}

export async function drag(from: { x: number; y: number }, to: { x: number; y: number }): Promise<void> {
  const mouse = page().mouse;
  await mouse.move(from.x, from.y);
  await mouse.down();
  await mouse.move((from.x + to.x) / 2, (from.y + to.y) / 2, { steps: 5 });
  await mouse.move(to.x, to.y, { steps: 5 });
  await mouse.up();
}

/** Adds nodes by type at fixed places; returns their ids. */
export function addNodes(placed: [string, number, number][]): Promise<number[]> {
  return page().evaluate((placed) => {
    const { editor } = (globalThis as Json).app;
    return placed.map(([type, x, y]) => {
      const node = editor.addNode(type);
      node.pos = [x, y];
      return node.id;
    });
  }, placed);
}

export function runState(): Promise<{ phase: string; errors: Record<string, Json[]>; outputs: Record<string, Json>; executed: string[] }> {
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

export async function waitForPhase(...phases: string[]): Promise<void> {
  await page().waitForFunction((phases) => phases.includes((globalThis as Json).app.app.runState.phase), phases);
}

/** Starts recording the run events the page receives. */
export async function recordEvents(): Promise<void> {
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

export function seenEvents(): Promise<[string, Json][]> {
  return page().evaluate(() => (globalThis as Json).seenEvents);
}

export async function waitForErrorOn(nodeId: number): Promise<void> {
  await page().waitForFunction((id) => (globalThis as Json).app.app.runState.errors.has(String(id)), nodeId);
}

export async function queueWithKeyboard(): Promise<void> {
  await page().focus('#graph-canvas');
  await page().keyboard.press('Control+Enter');
}

export function hasDemoModel(): boolean {
  const models: string[] = objectInfo.LoadModel?.input.required.model[0] ?? [];
  const clips: string[] = objectInfo.LoadVideo?.input.required.video[0] ?? [];
  return models.includes('limelight-demo') && clips.includes('limelight-sample.mp4');
}

/** A video-to-video prompt on the demo model and the sample clip (frames 0 = all of them). */
export function demoPrompt({ frames, size, steps }: { frames: number; size: number; steps: number }) {
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

export async function solidPng(colour: string): Promise<Buffer> {
  return sharp({ create: { width: 16, height: 16, channels: 3, background: colour } }).png().toBuffer();
}

/** An mp4 carrying the workflow the way Limelight's Encode node writes it (`-movflags use_metadata_tags`). */
export function makeVideoWithWorkflow(workflowJson: Json): Buffer {
  const file = path.join(tmpdir(), `limelight-e2e-${process.pid}.mp4`);
  const args = ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=blue:s=64x64:d=0.2', '-metadata', `workflow=${JSON.stringify(workflowJson)}`];
  execFileSync(toolPath('ffmpeg'), [...args, '-movflags', 'use_metadata_tags', '-pix_fmt', 'yuv420p', file]);
  const bytes = readFileSync(file);
  rmSync(file);
  return bytes;
}

/** Drops a file on the canvas (by default its middle), as a user dragging it from the desktop would. */
export async function dropFile(bytes: Buffer, name: string, type: string, at?: { x: number; y: number }): Promise<void> {
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
