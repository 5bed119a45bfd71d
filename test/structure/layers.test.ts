// The layers point one way: nodes use the server's runtime/onnx/media/masks/analysis, never the reverse;
// the engine is a library; the browser client imports only its own files and the shared common/ module,
// and common/ imports nothing from either side. Read from the sources, so a new import up a floor fails here.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function sourceFiles(folder: string): string[] {
  return readdirSync(path.join(ROOT, folder), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.ts$/.test(entry.name) && !entry.parentPath.includes('node_modules') && !entry.parentPath.includes(`${path.sep}dist`))
    .map((entry) => path.relative(ROOT, path.join(entry.parentPath, entry.name)));
}

/** Every module a file imports (static, dynamic and type-only), as repository paths or package names. */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const specifiers = [...text.matchAll(/(?:from\s+|import\s*\(\s*|^import\s+)['"]([^'"]+)['"]/gm)].map((m) => m[1]);
  return specifiers.map((spec) => (spec.startsWith('.') ? path.relative(ROOT, path.resolve(ROOT, path.dirname(file), spec)) : spec));
}

function violations(folders: string[], forbidden: (target: string) => boolean): string[] {
  return folders.flatMap(sourceFiles).flatMap((file) => importsOf(file).filter(forbidden).map((target) => `${file} → ${target}`));
}

const under = (target: string, ...folders: string[]) => folders.some((folder) => target === folder || target.startsWith(`${folder}/`));

describe('import layers', () => {
  it('reads the imports it checks (the nodes do import the server layers)', () => {
    expect(violations(['nodes'], (t) => under(t, 'server/runtime')).length).toBeGreaterThan(0);
  });

  it('the server layers below the nodes never import nodes/', () => {
    expect(violations(['server/engine', 'server/runtime', 'server/onnx', 'server/media', 'server/masks', 'server/analysis'], (t) => under(t, 'nodes'))).toEqual([]);
  });

  it('the engine imports no runtime, model, media or HTTP code', () => {
    const below = (t: string) => under(t, 'nodes', 'server/runtime', 'server/onnx', 'server/media', 'server/api', 'server/cli') || ['express', 'ws', 'onnxruntime-node'].includes(t);
    expect(violations(['server/engine'], below)).toEqual([]);
  });

  it('the engine runner imports no HTTP or command-line code (its messages are plain data)', () => {
    expect(violations(['server/runner'], (t) => under(t, 'server/api', 'server/cli') || ['express', 'ws'].includes(t))).toEqual([]);
  });

  it('the client imports only its own files, common/ and browser packages', () => {
    expect(violations(['client/src'], (t) => under(t, 'server', 'nodes', 'workflows', 'test') || t.startsWith('node:'))).toEqual([]);
  });

  it('common/ imports nothing from the server, the nodes, the client or Node', () => {
    expect(violations(['common'], (t) => under(t, 'server', 'nodes', 'client', 'workflows') || t.startsWith('node:'))).toEqual([]);
  });

  it('production code imports no test helpers and no example files', () => {
    expect(violations(['server', 'nodes', 'common', 'client/src'], (t) => under(t, 'test', 'bench', 'workflows'))).toEqual([]);
  });
});
