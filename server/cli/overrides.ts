// `--set node.input=value`: the node by id or by title, the value as JSON when it parses, else text.
import type { Prompt } from '../../common/prompt.ts';
import { UsageError } from '../errors.ts';


export function parseAssignment(text: string): { node: string; input: string; value: unknown } {
  const match = /^([^=]+?)\.([^.=]+)=(.*)$/s.exec(text);
  if (!match) throw new UsageError(`"${text}" should look like <node id or title>.<input>=<value>, e.g. 3.seed=42 or Sampler.steps=8`);
  const [, node, input, raw] = match;
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // not JSON: keep the text as it is
  }
  return { node: node.trim(), input: input.trim(), value };
}

/** The prompt node ids an override names: an id, else every node whose title or type matches. */
export function findNodes(prompt: Prompt, reference: string): string[] {
  if (Object.hasOwn(prompt, reference)) return [reference];
  const wanted = reference.toLowerCase();
  const byTitle = Object.keys(prompt).filter((id) => prompt[id]._meta?.title?.toLowerCase() === wanted);
  if (byTitle.length > 0) return byTitle;
  return Object.keys(prompt).filter((id) => prompt[id].class_type.toLowerCase() === wanted);
}

export function applyOverride(prompt: Prompt, assignment: string): Prompt {
  const { node, input, value } = parseAssignment(assignment);
  const ids = findNodes(prompt, node);
  if (ids.length === 0) {
    throw new UsageError(`--set ${assignment}: no node has id, title or type "${node}" (nodes: ${Object.keys(prompt).map((id) => `${id} ${prompt[id]._meta?.title ?? prompt[id].class_type}`).join(', ')})`);
  }
  if (ids.length > 1) throw new UsageError(`--set ${assignment}: "${node}" matches nodes ${ids.join(', ')}; use the node id`);
  const id = ids[0];
  return { ...prompt, [id]: { ...prompt[id], inputs: { ...prompt[id].inputs, [input]: value } } };
}
