import { describe, expect, it } from 'vitest';
import { clipLabel, progressLabel, RunState } from '../../client/src/model/run-state.ts';

const P = 'prompt-1';

describe('run state from the WebSocket events', () => {
  it('follows a run: cached nodes, the running node and its progress, outputs, success', () => {
    const state = new RunState();
    state.handle('execution_start', { prompt_id: P });
    expect(state.phase).toBe('running');
    state.handle('execution_cached', { nodes: ['1', '2'], prompt_id: P });
    state.handle('executing', { node: '5', prompt_id: P });
    state.handle('progress', { node: '5', value: 3, max: 8, frame: 2, frames: 4, step: 1, steps: 2, prompt_id: P });
    expect(state.runningNode).toBe('5');
    expect(state.progress.get('5')).toMatchObject({ value: 3, max: 8, frame: 2, frames: 4, step: 1, steps: 2 });
    state.handle('executed', { node: '7', output: { videos: [{ filename: 'a.mp4', subfolder: '', type: 'output' }] }, prompt_id: P });
    state.handle('executing', { node: null, prompt_id: P });
    state.handle('execution_success', { prompt_id: P });
    expect(state.phase).toBe('done');
    expect(state.runningNode).toBeNull();
    expect(state.progress.size).toBe(0);
    expect([...state.cached]).toEqual(['1', '2']);
    expect([...state.executed]).toEqual(['7']);
    expect(state.outputs.get('7')).toEqual({ videos: [{ filename: 'a.mp4', subfolder: '', type: 'output' }] });
  });

  it('puts an execution error on the node and input it names', () => {
    const state = new RunState();
    state.handle('execution_start', { prompt_id: P });
    state.handle('execution_error', { prompt_id: P, node_id: '3', node_type: 'Math', exception_type: 'NodeInputError', exception_message: 'not finite', input_name: 'b' });
    expect(state.phase).toBe('failed');
    expect(state.errors.get('3')).toEqual([{ message: 'NodeInputError: not finite', inputName: 'b' }]);
    expect(state.message).toBeNull();
  });

  it('clears the previous run’s marks when a new run starts, but keeps previews until replaced', () => {
    const state = new RunState();
    state.handle('executed', { node: '7', output: { text: ['14'] } });
    state.handle('execution_error', { node_id: '3', exception_message: 'boom' });
    state.handle('execution_start', { prompt_id: 'next' });
    expect(state.errors.size).toBe(0);
    expect(state.outputs.get('7')).toEqual({ text: ['14'] });
    state.reset();
    expect(state.outputs.size).toBe(0);
    expect(state.phase).toBe('idle');
  });

  it('reports an interruption', () => {
    const state = new RunState();
    state.handle('execution_start', { prompt_id: P });
    state.handle('executing', { node: '5', prompt_id: P });
    state.handle('execution_interrupted', { prompt_id: P, node_id: '5' });
    expect(state).toMatchObject({ phase: 'interrupted', runningNode: null, message: 'Interrupted' });
  });

  it('ignores events it does not know', () => {
    expect(new RunState().handle('status', { status: {} })).toBe(false);
  });
});

describe('a refused prompt', () => {
  it('marks each node of node_errors with its messages and inputs', () => {
    const state = new RunState();
    state.showRefusal({
      error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details: '' },
      node_errors: {
        '3': {
          class_type: 'SaveText',
          dependent_outputs: ['3'],
          errors: [{ type: 'required_input_missing', message: 'Required input is missing', details: 'value: required input is missing', extra_info: { input_name: 'value' } }],
        },
        '4': {
          class_type: 'Math',
          dependent_outputs: ['3'],
          errors: [{ type: 'value_bigger_than_max', message: 'Value 9 bigger than max of 1', details: '', extra_info: {} }],
        },
      },
    });
    expect(state.phase).toBe('failed');
    expect(state.errors.get('3')).toEqual([{ message: 'value: required input is missing', inputName: 'value' }]);
    expect(state.errors.get('4')).toEqual([{ message: 'Value 9 bigger than max of 1', inputName: undefined }]);
    expect(state.message).toBe('Prompt outputs failed validation');
  });

  it('says why when no node is at fault', () => {
    const state = new RunState();
    state.showRefusal({ error: { type: 'prompt_no_outputs', message: 'Prompt has no outputs', details: 'add an output node' }, node_errors: {} });
    expect(state.errors.size).toBe(0);
    expect(state.message).toBe('Prompt has no outputs: add an output node');
  });
});

describe('progress labels', () => {
  it('names frames and steps, or falls back to a percentage', () => {
    expect(progressLabel({ value: 3, max: 8, frame: 2, frames: 4, step: 1, steps: 2 })).toBe('frame 2/4 · step 1/2');
    expect(progressLabel({ value: 1, max: 4, label: 'encoding' })).toBe('encoding');
    expect(progressLabel({ value: 1, max: 4 })).toBe('25%');
  });
});

describe('a streamed clip', () => {
  it('keeps the frames done, the total and the time left from progress events until the run ends', () => {
    const state = new RunState();
    state.handle('execution_start', { prompt_id: P });
    state.handle('progress', { node: '5', value: 1, max: 4, prompt_id: P, clip: { done: 24, total: 64, eta_seconds: 11.2 } });
    expect(state.clip).toEqual({ done: 24, total: 64, eta_seconds: 11.2 });
    expect(clipLabel(state.clip!)).toBe('frames 24/64 · 12 s left');
    expect(clipLabel({ done: 8, total: 2400, eta_seconds: 600 })).toBe('frames 8/2400 · 10 min left');
    expect(clipLabel({ done: 64, total: 64, eta_seconds: 0 })).toBe('frames 64/64');
    state.handle('execution_success', { prompt_id: P });
    expect(state.clip).toBeNull();
  });
});
