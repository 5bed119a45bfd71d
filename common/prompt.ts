// The API prompt format (ComfyUI's): `{id: {class_type, inputs: {name: literal | [src_id, slot]}, _meta}}`.
import { Ajv } from 'ajv';

export type Link = [string, number];

export interface PromptNode {
  class_type: string;
  inputs: Record<string, unknown>;
  _meta?: { title?: string };
}

export type Prompt = Record<string, PromptNode>;

/** A 2-element array `[source id, output slot]` is a link; anything else is a literal. */
export function asLink(value: unknown): Link | null {
  if (!Array.isArray(value) || value.length !== 2) return null;
  const [source, slot] = value;
  if ((typeof source !== 'string' && typeof source !== 'number') || typeof slot !== 'number') return null;
  return [String(source), slot];
}

export const PROMPT_SCHEMA = {
  type: 'object',
  minProperties: 1,
  additionalProperties: {
    type: 'object',
    required: ['class_type', 'inputs'],
    properties: {
      class_type: { type: 'string', minLength: 1 },
      inputs: { type: 'object' },
      _meta: { type: 'object', properties: { title: { type: 'string' } } },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true });
const checkPrompt = ajv.compile(PROMPT_SCHEMA);

/** Shape errors as readable lines (`node 3: must have required property 'inputs'`), or [] when well-formed. */
export function promptShapeErrors(prompt: unknown): { nodeId?: string; message: string }[] {
  if (checkPrompt(prompt)) return [];
  return (checkPrompt.errors ?? []).map((e) => {
    const [nodeId, ...field] = e.instancePath.split('/').filter(Boolean).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const where = nodeId === undefined ? 'prompt' : `node ${nodeId}${field.length > 0 ? ` ${field.join('.')}` : ''}`;
    return { nodeId, message: `${where}: ${e.message ?? 'is malformed'}` };
  });
}
