// Execution order: only output nodes and their ancestors, dependencies first, one output's branch at a
// time starting with the output that has the fewest ancestors, so previews arrive early.
import type { ValidNode } from './validate.ts';

/** The node and every node it depends on. */
export function ancestors(id: string, nodes: Map<string, ValidNode>): Set<string> {
  const seen = new Set<string>();
  const stack = [id];
  while (stack.length > 0) {
    const current = stack.pop()!;
    if (seen.has(current)) continue;
    seen.add(current);
    for (const [source] of Object.values(nodes.get(current)?.links ?? {})) stack.push(source);
  }
  return seen;
}

function compareIds(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  return Number.isFinite(na) && Number.isFinite(nb) ? na - nb : a.localeCompare(b);
}

/** Topological order (iterative post-order DFS; the graph is known to be acyclic). */
export function executionOrder(nodes: Map<string, ValidNode>, outputs: string[]): string[] {
  const ranked = outputs
    .map((id) => ({ id, size: ancestors(id, nodes).size }))
    .sort((a, b) => a.size - b.size || compareIds(a.id, b.id));
  const order: string[] = [];
  const done = new Set<string>();
  for (const { id: output } of ranked) {
    const stack: { id: string; expanded: boolean }[] = [{ id: output, expanded: false }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (done.has(top.id)) {
        stack.pop();
        continue;
      }
      if (top.expanded) {
        stack.pop();
        done.add(top.id);
        order.push(top.id);
        continue;
      }
      top.expanded = true;
      const sources = Object.values(nodes.get(top.id)!.links).map(([source]) => source);
      for (const source of sources.reverse()) if (!done.has(source)) stack.push({ id: source, expanded: false });
    }
  }
  return order;
}
