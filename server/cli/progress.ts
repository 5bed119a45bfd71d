// Prints the engine's events as a progress bar per node (redrawn in place on a terminal, plain
// lines at each tenth when the output is a file or a pipe).
import type { EngineEvent } from '../../common/events.ts';

const BAR_WIDTH = 24;

function bar(value: number, max: number): string {
  const fraction = max > 0 ? Math.min(1, Math.max(0, value / max)) : 0;
  const filled = Math.round(fraction * BAR_WIDTH);
  return `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
}

/** "1:05" / "12 s": the time left, as a person reads it. */
function duration(seconds: number): string {
  const whole = Math.round(seconds);
  return whole < 60 ? `${whole} s` : `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`;
}

export class ProgressPrinter {
  private lastTenth = -1;
  private currentLabel = '';
  /** The nodes seen so far, numbered in the order they first ran (a streamed clip runs them once per chunk). */
  private readonly numbers = new Map<string, number>();
  /** While a clip streams: its line, shown after each node's progress. */
  private clip = '';

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
      case 'executing': {
        const node = event.data.node;
        if (node === null) break;
        const first = !this.numbers.has(node);
        if (first) this.numbers.set(node, this.numbers.size + 1);
        this.lastTenth = -1;
        this.currentLabel = `[${this.numbers.get(node)}/${this.total}] ${this.titles.get(node) ?? node}`;
        // Inside a streamed clip the nodes take turns chunk by chunk: one line, rewritten in place.
        if (this.clip) {
          if (this.tty) this.line(`${this.clip} ${this.currentLabel}`, false);
          break;
        }
        if (this.tty && this.numbers.size > 1 && first) this.stream.write('\n');
        this.line(this.currentLabel, !this.tty);
        break;
      }
      case 'progress': {
        const { value, max, frame, frames, step, steps, label, clip } = event.data;
        if (label === 'frames' && clip) {
          // After each chunk: frames through the whole graph, and the time left.
          this.clip = `clip ${bar(clip.done, clip.total)} ${clip.done}/${clip.total} frames, ${clip.done < clip.total ? `ETA ${duration(clip.eta_seconds)}` : 'done'}`;
          this.line(this.clip, !this.tty || clip.done === clip.total);
          if (clip.done === clip.total) this.clip = '';
          break;
        }
        const parts = [
          frame !== undefined ? `frame ${frame}/${frames ?? '?'}` : '',
          step !== undefined ? `step ${step}/${steps ?? '?'}` : '',
          label ?? '',
        ].filter(Boolean);
        const text = `${this.clip ? `${this.clip} ` : ''}${this.currentLabel} ${bar(value, max)} ${value}/${max} ${parts.join(' ')}`.trimEnd();
        const tenth = max > 0 ? Math.floor((value / max) * 10) : 0;
        if (this.tty) this.line(text, false);
        else if (!this.clip && tenth > this.lastTenth) {
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
        if (this.tty && this.numbers.size > 0) this.stream.write('\n');
        break;
      default:
        break;
    }
  }
}
