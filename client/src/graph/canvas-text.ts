// Word-wrapped text on the canvas (error messages, notes, text outputs).

/** Splits text into lines no wider than `width`, at spaces; a word longer than a line is cut. */
export function wrapLines(ctx: CanvasRenderingContext2D, text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(' ')) {
      const candidate = line ? `${line} ${word}` : word;
      if (ctx.measureText(candidate).width <= width || !line) line = candidate;
      else {
        lines.push(line);
        line = word;
      }
      while (ctx.measureText(line).width > width && line.length > 1) {
        let cut = line.length - 1;
        while (cut > 1 && ctx.measureText(line.slice(0, cut)).width > width) cut--;
        lines.push(line.slice(0, cut));
        line = line.slice(cut);
      }
    }
    lines.push(line);
  }
  return lines;
}

/** Draws wrapped text from (x, y) down, stopping at `maxY`. */
export function drawWrapped(ctx: CanvasRenderingContext2D, text: string, x: number, y: number, width: number, maxY: number, lineHeight: number): void {
  for (const line of wrapLines(ctx, text, width)) {
    if (y + lineHeight > maxY) return;
    ctx.fillText(line, x, y + lineHeight - 4);
    y += lineHeight;
  }
}
