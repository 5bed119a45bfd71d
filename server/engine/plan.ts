// A validated prompt with its execution order and, when no node depends on files, its cache keys.
// Plans of such "pure" prompts are remembered by the prompt's text, so re-queuing an unchanged prompt
// skips validation and hashing (a prompt that reads files is always checked again: files change).
import type { NodeDefinition } from './node-contract.ts';
import { keyParts, nodeCacheKey } from './cache-key.ts';
import { executionOrder } from './order.ts';
import type { ValidNode } from './validate.ts';

export interface Plan {
  nodes: Map<string, ValidNode>;
  outputs: string[];
  order: string[];
  /** Cache keys, present when no node needs a file fingerprint (those are computed per run). */
  keys?: Map<string, string>;
}

function dependsOnFiles(definition: NodeDefinition): boolean {
  if (definition.fingerprint) return true;
  const inputs = { ...definition.inputs.required, ...definition.inputs.optional };
  return Object.values(inputs).some((spec) => 'options' in spec && typeof spec.options === 'function');
}

export function makePlan(nodes: Map<string, ValidNode>, outputs: string[]): Plan {
  const order = executionOrder(nodes, outputs);
  const pure = [...nodes.values()].every((n) => !dependsOnFiles(n.definition));
  if (!pure) return { nodes, outputs, order };
  const keys = new Map<string, string>();
  for (const id of order) {
    const node = nodes.get(id)!;
    keys.set(id, nodeCacheKey(keyParts(node), (s) => keys.get(s)!));
  }
  return { nodes, outputs, order, keys };
}

const MEMO_SIZE = 64;
const MAX_KEY_LENGTH = 256 * 1024;

export class PlanMemo {
  private readonly plans = new Map<string, Plan>();

  /** The prompt's own text is the key (cheaper than hashing it); very large prompts are not remembered. */
  static keyOf(prompt: unknown, outputs: string[] | undefined): string | null {
    try {
      const text = JSON.stringify([outputs ?? null, prompt]);
      return text.length <= MAX_KEY_LENGTH ? text : null;
    } catch {
      return null; // not serialisable: validation will say why
    }
  }

  get(key: string | null): Plan | undefined {
    return key === null ? undefined : this.plans.get(key);
  }

  remember(key: string | null, plan: Plan): void {
    if (key === null || !plan.keys) return;
    this.plans.delete(key);
    this.plans.set(key, plan);
    if (this.plans.size > MEMO_SIZE) this.plans.delete(this.plans.keys().next().value!);
  }
}
