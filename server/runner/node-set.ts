// Which node types a runner executes, as plain data: a module and the export holding its definitions.
// A registry of functions cannot cross a thread (or, later, a queue to another machine); the name of the
// module that defines them can, and both sides load the same declarations from it.
import type { NodeDefinition } from '../engine/node-contract.ts';
import { NodeRegistry } from '../engine/node-registry.ts';

export interface NodeSetRef {
  /** A file: URL of an ES module. */
  module: string;
  /** The export holding a `NodeDefinition[]`. */
  export: string;
}

/** Every node type Limelight ships. */
export const LIMELIGHT_NODES: NodeSetRef = { module: new URL('../../nodes/index.ts', import.meta.url).href, export: 'ALL_NODES' };

export async function loadNodeSet(ref: NodeSetRef): Promise<NodeRegistry> {
  const loaded = (await import(ref.module)) as Record<string, unknown>;
  const definitions = loaded[ref.export];
  if (!Array.isArray(definitions)) throw new Error(`${ref.module} has no export "${ref.export}" listing node definitions`);
  return new NodeRegistry(definitions as NodeDefinition[]);
}
