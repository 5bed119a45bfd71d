// Bypass and mute, as in ComfyUI: a bypassed node (mode 4) passes its inputs through and is drawn with a
// purple tint; a muted node (mode 2) does not run and is drawn faded. The prompt builder honours both.
import { LGraphEventMode, type LGraphCanvas, type LGraphNode } from '@comfyorg/litegraph';

export const BYPASS_COLOUR = '#FF00FF';
const BYPASS_ALPHA = 0.35;
const MUTED_ALPHA = 0.4;

/** Sets the mode on every node, or back to "always" when all of them already have it. */
export function toggleMode(nodes: LGraphNode[], mode: LGraphEventMode.BYPASS | LGraphEventMode.NEVER): void {
  const next = nodes.every((node) => node.mode === mode) ? LGraphEventMode.ALWAYS : mode;
  // litegraph's changeMode refuses BYPASS (it knows only its event modes).
  for (const node of nodes) node.mode = next;
}

/** Makes the canvas draw bypassed and muted nodes distinctly. */
export function drawModes(canvas: LGraphCanvas): void {
  const drawNode = canvas.drawNode.bind(canvas);
  canvas.drawNode = (node, ctx) => {
    const alpha = canvas.editor_alpha;
    const bgcolor = node.bgcolor;
    if (node.mode === LGraphEventMode.BYPASS) {
      node.bgcolor = BYPASS_COLOUR;
      canvas.editor_alpha = alpha * BYPASS_ALPHA;
    } else if (node.mode === LGraphEventMode.NEVER) canvas.editor_alpha = alpha * MUTED_ALPHA;
    try {
      drawNode(node, ctx);
    } finally {
      canvas.editor_alpha = alpha;
      node.bgcolor = bgcolor;
    }
  };
}
