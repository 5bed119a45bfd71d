// Drag and drop: an image or video dropped on a node that loads such files is uploaded into it; any
// other file is opened as a workflow (a .json, or a PNG/MP4/WebM made by Limelight).
import { LimelightNode } from '../graph/node-classes.ts';
import type { App } from '../app.ts';

export function enableFileDrop(target: HTMLElement, app: App): void {
  target.addEventListener('dragover', (event) => {
    if (event.dataTransfer?.types.includes('Files')) event.preventDefault();
  });
  target.addEventListener('drop', (event) => {
    const file = event.dataTransfer?.files[0];
    if (!file) return;
    event.preventDefault();
    const node = app.editor.nodeAt(event.clientX, event.clientY);
    const widget = node instanceof LimelightNode ? app.uploadTarget(node, file.type) : null;
    if (node instanceof LimelightNode && widget) void app.uploadToNode(node, widget, file);
    else void app.openFile(file);
  });
}
