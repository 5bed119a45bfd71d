// Playable <video> elements over the preview area of nodes whose output is a video (the Encode node),
// kept in place as the canvas pans and zooms.
import type { LGraph, LGraphCanvas } from '@comfyorg/litegraph';
import { previewRect, type NodeView } from './node-decorations.ts';

export class VideoOverlays {
  readonly #videos = new Map<string, HTMLVideoElement>();

  constructor(
    private readonly container: HTMLElement,
    private readonly view: NodeView,
  ) {}

  /** Places (or removes) each node's video; called after every canvas frame. */
  update(graph: LGraph, canvas: LGraphCanvas): void {
    const seen = new Set<string>();
    const { scale, offset } = canvas.ds;
    const bounds = canvas.canvas.getBoundingClientRect();
    const host = this.container.getBoundingClientRect();
    for (const node of graph.nodes) {
      const url = this.view.previewVideos(node)[0];
      if (!url || node.flags.collapsed) continue;
      const id = String(node.id);
      seen.add(id);
      let video = this.#videos.get(id);
      if (!video) {
        video = document.createElement('video');
        video.className = 'node-video';
        video.controls = true;
        video.loop = true;
        video.muted = true;
        video.playsInline = true;
        this.container.append(video);
        this.#videos.set(id, video);
      }
      if (video.dataset.src !== url) {
        video.dataset.src = url;
        video.src = url;
      }
      const [x, y, w, h] = previewRect(node);
      const left = bounds.left - host.left + (node.pos[0] + x + offset[0]) * scale;
      const top = bounds.top - host.top + (node.pos[1] + y + offset[1]) * scale;
      Object.assign(video.style, { left: `${left}px`, top: `${top}px`, width: `${w * scale}px`, height: `${h * scale}px` });
      video.hidden = h * scale < 24;
    }
    for (const [id, video] of this.#videos) {
      if (seen.has(id)) continue;
      video.remove();
      this.#videos.delete(id);
    }
  }
}
