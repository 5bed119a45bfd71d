// Cache keys: SHA-256 over a node's type, version, literal inputs (canonical JSON), file fingerprint and
// its ancestors' keys — structural, so a change upstream invalidates exactly what depends on it.
import { createHash } from 'node:crypto';
import type { Link } from '../../common/prompt.ts';
import type { ValidNode } from './validate.ts';

/** JSON with object keys sorted, so equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.keys(value)
    .sort()
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

export interface KeyParts {
  type: string;
  version: number;
  literals: Record<string, unknown>;
  fingerprint?: string;
  /** For each linked input: the source node's key and the output slot. */
  links: Record<string, Link>;
  /** The node's id, for nodes whose outputs record it (NodeDefinition.recordsNodeId). */
  nodeId?: string;
}

/** The key parts of a validated node. */
export function keyParts(node: ValidNode, fingerprint?: string): KeyParts {
  const { definition } = node;
  return { type: node.type, version: definition.version, literals: node.literals, fingerprint, links: node.links, nodeId: definition.recordsNodeId ? node.id : undefined };
}

export function nodeCacheKey(parts: KeyParts, keyOf: (nodeId: string) => string): string {
  const links = Object.fromEntries(Object.entries(parts.links).map(([name, [source, slot]]) => [name, [keyOf(source), slot]]));
  const text = canonicalJson({ t: parts.type, v: parts.version, l: parts.literals, f: parts.fingerprint ?? null, a: links, n: parts.nodeId });
  return createHash('sha256').update(text).digest('hex');
}
