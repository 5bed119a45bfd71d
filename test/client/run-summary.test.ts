import { describe, expect, it } from 'vitest';
import type { HistoryEntry, QueueItem } from '../../client/src/api/protocol-types.ts';
import { formatDuration, formatTime, summarizeHistory, summarizeQueued } from '../../client/src/model/run-summary.ts';

const workflow = { nodes: [{ id: 1, type: 'Float' }, { id: 2, type: 'Encode' }], links: [] };

function item(extra: Record<string, unknown> = {}): QueueItem {
  return [3, '3a62c87f-0000', { '1': { class_type: 'Float', inputs: {} } }, { extra_pnginfo: { workflow }, ...extra }, ['2']];
}

function entry(messages: [string, Record<string, unknown>][], status_str: 'success' | 'error', outputs: HistoryEntry['outputs'] = {}): HistoryEntry {
  return { prompt: item({ workflow_name: 'hobbyist-keyframes', create_time: 1000 }), outputs, status: { status_str, completed: status_str === 'success', messages } };
}

describe('run summaries', () => {
  it('names a finished run, with its start, duration and output picture', () => {
    const run = summarizeHistory(
      entry(
        [['execution_start', { timestamp: 2_000 }], ['execution_cached', { nodes: [], timestamp: 2_010 }], ['execution_success', { timestamp: 9_250 }]],
        'success',
        { '5': { images: [{ filename: 'a.png', subfolder: '', type: 'temp' }] }, '2': { videos: [{ filename: 'out.mp4', subfolder: 'limelight', type: 'output' }] } },
      ),
    );
    expect(run).toMatchObject({ name: 'hobbyist-keyframes', nodes: 2, number: 3, outcome: 'success', queuedAt: 1000, startedAt: 2000, duration: 7250 });
    // The video the run made, rather than a preview's frames.
    expect(run.thumbnail).toEqual({ ref: { filename: 'out.mp4', subfolder: 'limelight', type: 'output' }, video: true });
  });

  it('calls an interrupted run interrupted, and a failed one an error with its message', () => {
    const interrupted = summarizeHistory(entry([['execution_start', { timestamp: 1 }], ['execution_interrupted', { node_id: '5', timestamp: 5 }]], 'error'));
    expect(interrupted).toMatchObject({ outcome: 'interrupted', duration: 4 });
    const failed = summarizeHistory(
      entry([['execution_start', { timestamp: 1 }], ['execution_error', { exception_type: 'ValueError', exception_message: 'no frames', timestamp: 3 }]], 'error'),
    );
    expect(failed).toMatchObject({ outcome: 'error', message: 'ValueError: no frames', duration: 2 });
    expect(failed.thumbnail).toBeUndefined();
  });

  it('summarizes queued prompts, naming those a script sent without a workflow', () => {
    expect(summarizeQueued(item({ create_time: 42 }), false)).toMatchObject({ outcome: 'queued', queuedAt: 42, name: 'workflow' });
    expect(summarizeQueued([7, 'x', { '1': { class_type: 'Float', inputs: {} } }, {}, []], true)).toMatchObject({ outcome: 'running', name: 'API prompt', nodes: 1 });
  });

  it('formats durations and times for the list', () => {
    expect([850, 7_240, 185_000, 3_720_000].map(formatDuration)).toEqual(['850 ms', '7.2 s', '3 min 05 s', '1 h 02 min']);
    const noon = new Date(2025, 2, 3, 12, 0, 5).getTime();
    expect(formatTime(noon, noon + 60_000)).toMatch(/12.00.05/);
    expect(formatTime(noon, noon + 3 * 86_400_000)).toMatch(/3.*12.00/);
  });
});
