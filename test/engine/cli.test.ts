import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { limelight } from '../helpers/cli.ts';

function workspace(prompt: unknown): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'limelight-cli-'));
  writeFileSync(path.join(dir, 'graph.json'), JSON.stringify(prompt));
  return dir;
}

const calc = (a: number) => ({
  '1': { class_type: 'Float', inputs: { value: a } },
  '2': { class_type: 'Math', inputs: { a: ['1', 0], operation: 'multiply', b: 4 }, _meta: { title: 'Times four' } },
  '3': { class_type: 'SaveText', inputs: { value: ['2', 0], filename_prefix: 'calc/result' } },
});

describe('limelight CLI', () => {
  it('runs a prompt, applies --set by id and by title, and prints where outputs went', async () => {
    const dir = workspace(calc(2.5));
    const first = await limelight(['run', 'graph.json'], dir);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`output: ${path.join(dir, 'output/calc/result_00001.json')}`);
    expect(readFileSync(path.join(dir, 'output/calc/result_00001.json'), 'utf8').trim()).toBe('10');
    expect(first.stderr).toContain('[2/3] Times four');
    const second = await limelight(['run', 'graph.json', '--set', '1.value=3', '--set', 'Times four.operation=add'], dir);
    expect(second.code).toBe(0);
    expect(readFileSync(path.join(dir, 'output/calc/result_00002.json'), 'utf8').trim()).toBe('7');
  }, 30_000);

  it('exits 2 with readable node errors for an invalid workflow, 3 when a node fails, 64 for a bad command line', async () => {
    const dir = workspace(calc(2));
    const invalid = await limelight(['run', 'graph.json', '--set', '2.b=1e20'], dir);
    expect(invalid.code).toBe(2);
    expect(invalid.stdout).toMatch(/node 2 \(Times four\):\n {2}- b: .* bigger than the maximum .*\[value_bigger_than_max\]/);
    const failing = await limelight(['run', 'graph.json', '--set', '2.operation=divide', '--set', '2.b=0'], dir);
    expect(failing.code).toBe(3);
    expect(failing.stderr).toMatch(/error in node 2 \(Math\), input 'b'.*not a finite number/);
    expect((await limelight(['run', 'graph.json', '--set', 'nonsense'], dir)).code).toBe(64);
    expect((await limelight(['frobnicate'], dir)).code).toBe(64);
    const missing = await limelight(['run', 'nope.json'], dir);
    expect(missing.code).toBe(2);
    expect(missing.stdout).toContain('cannot read nope.json');
  }, 30_000);

  it('validate reports errors without running; nodes lists inputs', async () => {
    const dir = workspace({ '1': { class_type: 'SaveText', inputs: {} } });
    const result = await limelight(['validate', 'graph.json'], dir);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain('value: required input is missing [required_input_missing]');
    const nodes = await limelight(['nodes', 'Math'], dir);
    expect(nodes.stdout).toMatch(/operation: one of add \| subtract/);
  }, 30_000);

  it('--each runs the workflow once per matching file in the input folder', async () => {
    const dir = workspace({
      '1': { class_type: 'Text', inputs: { text: 'placeholder' } },
      '2': { class_type: 'SaveText', inputs: { value: ['1', 0], filename_prefix: 'batch/name' } },
    });
    mkdirSync(path.join(dir, 'input/clips'), { recursive: true });
    for (const name of ['a.mp4', 'b.mp4', 'notes.txt']) writeFileSync(path.join(dir, 'input/clips', name), '');
    const result = await limelight(['run', 'graph.json', '--each', '1.text=clips/*.mp4'], dir);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('[1/2 clips/a.mp4] done');
    expect(readFileSync(path.join(dir, 'output/batch/name_00001.txt'), 'utf8').trim()).toBe('clips/a.mp4');
    expect(readFileSync(path.join(dir, 'output/batch/name_00002.txt'), 'utf8').trim()).toBe('clips/b.mp4');
  }, 30_000);
});
