import { describe, expect, it } from 'vitest';
import { UndoHistory } from '../../client/src/model/undo-history.ts';

describe('undo history of graph snapshots', () => {
  it('undoes and redoes recorded states in order', () => {
    const history = new UndoHistory();
    history.reset('a');
    expect(history.record('b')).toBe(true);
    expect(history.record('c')).toBe(true);
    expect(history.undo()).toBe('b');
    expect(history.undo()).toBe('a');
    expect(history.undo()).toBeNull();
    expect(history.redo()).toBe('b');
    expect(history.redo()).toBe('c');
    expect(history.redo()).toBeNull();
  });

  it('ignores a gesture that changed nothing', () => {
    const history = new UndoHistory();
    history.reset('a');
    expect(history.record('a')).toBe(false);
    expect(history.canUndo).toBe(false);
  });

  it('drops the redo branch when a new change is made after undoing', () => {
    const history = new UndoHistory();
    history.reset('a');
    history.record('b');
    history.undo();
    history.record('x');
    expect(history.canRedo).toBe(false);
    expect(history.undo()).toBe('a');
    expect(history.redo()).toBe('x');
  });

  it('forgets the oldest states beyond its limit, and everything on reset', () => {
    const history = new UndoHistory(2);
    history.reset('0');
    for (const state of ['1', '2', '3']) history.record(state);
    expect(history.undo()).toBe('2');
    expect(history.undo()).toBe('1');
    expect(history.undo()).toBeNull();
    history.reset('new');
    expect(history.canUndo || history.canRedo).toBe(false);
  });
});
