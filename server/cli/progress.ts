// Prints the engine's events as a progress bar per node (redrawn in place on a terminal, plain
// lines at each tenth when the output is a file or a pipe).
import type { EngineEvent } from '../../common/events.ts';

const BAR_WIDTH = 24;

function bar(value: number, max: number): string {
  const fraction = max > 0 ? Math.min(1, Math.max(0, value / max)) : 0;
  const filled = Math.round(fraction * BAR_WIDTH);
  return `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
}

export class ProgressPrinter {
  private position = 0;
  private lastTenth = -1;
  private currentLabel = '';

  constructor(
    private readonly titles: Map<string, string>,
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream | { write(text: string): unknown; isTTY?: boolean },
  ) {}

  private get tty(): boolean {
    return this.stream.isTTY === true;
  }

  private line(text: string, final = true): void {
    if (this.tty) this.stream.write(`\r\x1b[2K${text}${final ? '\n' : ''}`);
    else if (final) this.stream.write(`${text}\n`);
  }

  handle(event: EngineEvent): void {
    switch (event.type) {
      case 'execution_cached':
        if (event.data.nodes.length > 0) this.line(`cached: ${event.data.nodes.length} node(s) reused`);
        break;
      case 'executing':
        if (event.data.node === null) break;
        this.position++;
        this.lastTenth = -1;
        this.currentLabel = `[${this.position}/${this.total}] ${this.titles.get(event.data.node) ?? event.data.node}`;
        if (this.tty && this.position > 1) this.stream.write('\n');
        this.line(this.currentLabel, !this.tty);
        break;
      case 'progress': {
        const { value, max, frame, frames, step, steps, label } = event.data;
        const parts = [
          frame !== undefined ? `frame ${frame}/${frames ?? '?'}` : '',
          step !== undefined ? `step ${step}/${steps ?? '?'}` : '',
          label ?? '',
        ].filter(Boolean);
        const text = `${this.currentLabel} ${bar(value, max)} ${value}/${max} ${parts.join(' ')}`.trimEnd();
        const tenth = max > 0 ? Math.floor((value / max) * 10) : 0;
        if (this.tty) this.line(text, false);
        else if (tenth > this.lastTenth) {
          this.lastTenth = tenth;
          this.line(text);
        }
        break;
      }
      case 'execution_error':
        this.line(`error in node ${event.data.node_id} (${event.data.node_type})${event.data.input_name ? `, input '${event.data.input_name}'` : ''}: ${event.data.exception_message}`);
        break;
      case 'execution_interrupted':
        this.line('interrupted');
        break;
      case 'execution_success':
        if (this.tty && this.position > 0) this.stream.write('\n');
        break;
      default:
        break;
    }
  }
}
