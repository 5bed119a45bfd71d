// A simple mask painter: brush (white = attend) and eraser over a reference (the node's current image,
// or any frame of a video loaded elsewhere in the graph — with a button per KeyframeInterpolate keyframe),
// saved as a PNG through the upload route and selected on the node.
import { LimelightNode } from '../graph/node-classes.ts';
import type { App } from '../app.ts';
import { mp4VideoFrames, type VideoFrames } from '../model/mp4-frames.ts';
import { button, element } from './elements.ts';
import { parseFrameNumbers } from '../../../common/keyframe-numbers.ts';

const DEFAULT_SIZE = 512;
/** Assumed when a video's frame rate cannot be read (not an MP4). */
const FALLBACK_FPS = 24;

/** The frame numbers (from 1) of the KeyframeInterpolate nodes' keyframes. */
/** The node's keyframes as KeyframeInterpolate reads them; none while the text does not parse. */
function keyframesOf(text: string): number[] {
  try {
    return parseFrameNumbers(text);
  } catch {
    return [];
  }
}

function keyframeNumbers(app: App): number[] {
  const frames = new Set<number>();
  for (const node of app.editor.graph.nodes) {
    if (node.type !== 'KeyframeInterpolate' || !(node instanceof LimelightNode)) continue;
    for (const frame of keyframesOf(String(node.widget('keyframes')?.value ?? ''))) if (frame >= 1) frames.add(frame);
  }
  return [...frames].sort((a, b) => a - b);
}

async function videoFrames(url: string, video: HTMLVideoElement): Promise<VideoFrames> {
  const bytes = await fetch(url).then((r) => r.arrayBuffer()).catch(() => null);
  const read = bytes ? mp4VideoFrames(new Uint8Array(bytes)) : null;
  return read ?? { count: Math.max(1, Math.round(video.duration * FALLBACK_FPS)), fps: FALLBACK_FPS };
}

function seek(video: HTMLVideoElement, time: number): Promise<void> {
  return new Promise((resolve) => {
    video.addEventListener('seeked', () => resolve(), { once: true });
    video.currentTime = time;
  });
}

interface Reference {
  label: string;
  url: string;
  video: boolean;
}

/** Files the graph loads (image and video combos with uploads), as references to paint over. */
function references(app: App, node: LimelightNode, widgetName: string): Reference[] {
  const list: Reference[] = [];
  const current = node.widget(widgetName)?.value;
  if (typeof current === 'string' && current) list.push({ label: `this node: ${current}`, url: app.api.viewUrl({ filename: current, type: 'input' }), video: false });
  for (const other of app.editor.graph.nodes) {
    if (!(other instanceof LimelightNode)) continue;
    for (const input of other.description?.inputs ?? []) {
      if (!('widget' in input) || input.widget.uploads.length === 0 || (other === node && input.widget.name === widgetName)) continue;
      const value = other.widget(input.widget.name)?.value;
      if (typeof value !== 'string' || !value) continue;
      const video = /\.(mp4|webm|mov|mkv|avi)$/i.test(value);
      list.push({ label: `${other.title}: ${value}`, url: app.api.viewUrl({ filename: value, type: 'input' }), video });
    }
  }
  return list;
}

function loadReference(reference: Reference): Promise<CanvasImageSource & { width: number; height: number }> {
  return new Promise((resolve, reject) => {
    if (reference.video) {
      const video = element('video', { muted: true, preload: 'auto', crossOrigin: 'anonymous' });
      video.addEventListener('loadeddata', () => {
        video.width = video.videoWidth;
        video.height = video.videoHeight;
        resolve(video);
      });
      video.addEventListener('error', () => reject(new Error(`cannot play ${reference.label}`)));
      video.src = reference.url;
    } else {
      const image = new Image();
      image.onload = () => resolve(image);
      image.onerror = () => reject(new Error(`cannot load ${reference.label}`));
      image.src = reference.url;
    }
  });
}

function isGrayscale(rgba: Uint8ClampedArray): boolean {
  for (let i = 0; i < rgba.length; i += 4) {
    if (Math.abs(rgba[i] - rgba[i + 1]) > 2 || Math.abs(rgba[i] - rgba[i + 2]) > 2) return false;
  }
  return true;
}

export class MaskPainter {
  readonly #root: HTMLElement;
  readonly #backdrop = element('canvas', { width: DEFAULT_SIZE, height: DEFAULT_SIZE });
  readonly #mask = element('canvas', { className: 'mask', width: DEFAULT_SIZE, height: DEFAULT_SIZE });
  #erasing = false;
  #brushSize = 32;
  #last: [number, number] | null = null;
  #loads = 0;
  /** The video shown and its frames, while the reference is a video. */
  #video: { element: HTMLVideoElement; frames: VideoFrames; frame: number; reference: Reference } | null = null;
  readonly #frameRow = element('div', { className: 'tools frames' });
  readonly #frameSlider = element('input', { type: 'range', min: '1', value: '1', title: 'Frame to paint on' });
  readonly #frameLabel = element('span', { className: 'frame-label' });

  constructor(
    private readonly app: App,
    private readonly node: LimelightNode,
    private readonly widgetName: string,
  ) {
    const refs = references(app, node, widgetName);
    const referenceSelect = element('select', { title: 'Paint over' });
    referenceSelect.append(element('option', { value: '', textContent: 'blank' }));
    for (const [i, ref] of refs.entries()) referenceSelect.append(element('option', { value: String(i), textContent: ref.label }));
    referenceSelect.addEventListener('change', () => {
      const reference = referenceSelect.value === '' ? null : refs[Number(referenceSelect.value)];
      void this.#showReference(reference, false);
    });

    const size = element('input', { type: 'range', min: '2', max: '200', value: String(this.#brushSize), title: 'Brush size' });
    size.addEventListener('input', () => (this.#brushSize = Number(size.value)));
    const brush = button('Brush', () => this.#setErasing(false), { className: 'primary', dataset: { tool: 'brush' } });
    const eraser = button('Eraser', () => this.#setErasing(true), { dataset: { tool: 'eraser' } });
    this.#setErasing = (erasing: boolean) => {
      this.#erasing = erasing;
      brush.className = erasing ? '' : 'primary';
      eraser.className = erasing ? 'primary' : '';
    };

    this.#frameSlider.addEventListener('input', () => void this.showFrame(Number(this.#frameSlider.value)));
    this.#frameRow.append(element('span', { textContent: 'Frame' }), this.#frameSlider, this.#frameLabel);
    for (const frame of keyframeNumbers(app)) {
      this.#frameRow.append(button(`keyframe ${frame}`, () => void this.showFrame(frame), { dataset: { keyframe: String(frame) }, title: `Paint the mask of the keyframe at frame ${frame}` }));
    }
    this.#frameRow.hidden = true;

    this.#root = element(
      'div',
      { className: 'mask-painter' },
      element(
        'div',
        { className: 'dialog' },
        element('div', { className: 'tools' }, element('strong', { textContent: 'Mask painter — white = attend' }), referenceSelect, brush, eraser, element('label', { textContent: 'size ' }, size), button('Fill', () => this.#fill('#fff')), button('Clear', () => this.#fill('#000'))),
        this.#frameRow,
        element('div', { className: 'stage' }, this.#backdrop, this.#mask),
        element('div', { className: 'tools' }, button('Save mask', () => void this.save(), { className: 'primary', dataset: { action: 'save-mask' } }), button('Cancel', () => this.close())),
      ),
    );
    this.#fill('#000');
    this.#bindPainting();
    document.body.append(this.#root);
    void this.#showReference(refs[0] ?? null, true);
    if (refs[0]) referenceSelect.value = '0';
  }

  #setErasing: (erasing: boolean) => void;

  /** Sizes the canvases to the reference (a blank one is DEFAULT_SIZE square) and draws it under the mask. */
  async #showReference(reference: Reference | null, seedMask: boolean): Promise<void> {
    this.#root.removeAttribute('data-ready');
    const load = ++this.#loads;
    const source = reference ? await loadReference(reference).catch(() => null) : null;
    if (load !== this.#loads) return; // another reference was chosen meanwhile
    this.#video = null;
    this.#frameRow.hidden = true;
    if (reference?.video && source instanceof HTMLVideoElement) {
      const frames = await videoFrames(reference.url, source);
      if (load !== this.#loads) return;
      this.#video = { element: source, frames, frame: 1, reference };
      this.#frameSlider.max = String(frames.count);
      this.#frameRow.hidden = false;
    }
    const width = source?.width || DEFAULT_SIZE;
    const height = source?.height || DEFAULT_SIZE;
    // Setting a canvas's size clears it, even to the same size: only a new size may.
    const resized = this.#mask.width !== width || this.#mask.height !== height;
    if (resized) for (const canvas of [this.#backdrop, this.#mask]) Object.assign(canvas, { width, height });
    const backdrop = this.#backdrop.getContext('2d', { willReadFrequently: true })!;
    backdrop.fillStyle = '#444';
    backdrop.fillRect(0, 0, width, height);
    if (this.#video) await this.showFrame(1);
    else if (source) backdrop.drawImage(source, 0, 0, width, height);
    // The node's own image seeds the mask when it is one (grayscale): painting then edits it.
    if (resized) this.#fill('#000');
    if (seedMask && source && !reference?.video && isGrayscale(backdrop.getImageData(0, 0, width, height).data)) {
      this.#mask.getContext('2d')!.drawImage(source, 0, 0, width, height);
    }
    this.#root.dataset.ready = 'true';
  }

  /** Shows frame `frame` (from 1) of the video reference under the mask; the mask is kept. */
  async showFrame(frame: number): Promise<void> {
    const video = this.#video;
    if (!video) return;
    const { count, fps } = video.frames;
    video.frame = Math.min(count, Math.max(1, Math.round(frame)));
    this.#frameSlider.value = String(video.frame);
    this.#frameLabel.textContent = `${video.frame} / ${count}`;
    this.#root.removeAttribute('data-ready');
    // The middle of the frame's display time, so rounding never lands on its neighbour.
    await seek(video.element, (video.frame - 0.5) / fps);
    if (this.#video !== video) return;
    const backdrop = this.#backdrop.getContext('2d')!;
    backdrop.drawImage(video.element, 0, 0, this.#backdrop.width, this.#backdrop.height);
    this.#root.dataset.frame = String(video.frame);
    this.#root.dataset.ready = 'true';
  }

  #fill(colour: string): void {
    const ctx = this.#mask.getContext('2d')!;
    ctx.fillStyle = colour;
    ctx.fillRect(0, 0, this.#mask.width, this.#mask.height);
  }

  #bindPainting(): void {
    const point = (event: PointerEvent): [number, number] => {
      const rect = this.#mask.getBoundingClientRect();
      return [((event.clientX - rect.left) * this.#mask.width) / rect.width, ((event.clientY - rect.top) * this.#mask.height) / rect.height];
    };
    const stroke = (to: [number, number]) => {
      const ctx = this.#mask.getContext('2d')!;
      const from = this.#last ?? to;
      ctx.strokeStyle = this.#erasing ? '#000' : '#fff';
      ctx.lineWidth = this.#brushSize;
      ctx.lineCap = 'round';
      ctx.beginPath();
      ctx.moveTo(from[0], from[1]);
      ctx.lineTo(to[0], to[1]);
      ctx.stroke();
      this.#last = to;
    };
    this.#mask.addEventListener('pointerdown', (event) => {
      this.#mask.setPointerCapture(event.pointerId);
      this.#last = null;
      stroke(point(event));
    });
    this.#mask.addEventListener('pointermove', (event) => {
      if (this.#last) stroke(point(event));
    });
    for (const type of ['pointerup', 'pointercancel'] as const) this.#mask.addEventListener(type, () => (this.#last = null));
  }

  async save(): Promise<string | null> {
    const blob = await new Promise<Blob | null>((resolve) => this.#mask.toBlob(resolve, 'image/png'));
    if (!blob) return null;
    const frame = this.#video ? `-frame${String(this.#video.frame).padStart(3, '0')}` : '';
    const name = await this.app.uploadToNode(this.node, this.widgetName, blob, `mask${frame}-${Date.now()}.png`);
    if (name) this.close();
    return name;
  }

  close(): void {
    this.#root.remove();
  }
}
