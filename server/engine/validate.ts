// Validation of an API prompt before anything runs: shape (JSON Schema), then semantics, reported in
// ComfyUI's `node_errors` shape with its error type strings.
import type { ComboEnvironment, InputSpec, NodeDefinition } from './node-contract.ts';
import { isPrimitiveInput } from './node-contract.ts';
import { comboOptions, type NodeRegistry } from './node-registry.ts';
import { isTypeCompatible } from '../../common/socket-types.ts';
import { asLink, promptShapeErrors, type Link, type Prompt, type PromptNode } from '../../common/prompt.ts';
import type { ErrorDetail, ErrorType, NodeErrors } from '../../common/node-errors.ts';
import { NodeInputError } from '../errors.ts';
import type { FrameRefusal } from './frame-counts.ts';
import { ancestors } from './order.ts';

/** A node after validation: literal inputs coerced to their declared types, links split out. */
export interface ValidNode {
  id: string;
  type: string;
  title: string;
  definition: NodeDefinition;
  literals: Record<string, unknown>;
  links: Record<string, Link>;
}

export type ValidationResult =
  | { ok: true; nodes: Map<string, ValidNode>; outputs: string[]; node_errors: NodeErrors }
  | { ok: false; error: ErrorDetail; node_errors: NodeErrors };

const MESSAGES: Record<ErrorType, string> = {
  invalid_prompt: 'Invalid prompt',
  missing_node_type: 'Node type not found',
  prompt_no_outputs: 'Prompt has no outputs',
  required_input_missing: 'Required input is missing',
  bad_linked_input: 'Bad linked input',
  return_type_mismatch: 'Return type mismatch between linked nodes',
  invalid_input_type: 'Invalid input type',
  value_smaller_than_min: 'Value smaller than min',
  value_bigger_than_max: 'Value bigger than max',
  value_not_in_list: 'Value not in list',
  custom_validation_failed: 'Custom validation failed',
  dependency_cycle: 'Dependency cycle detected',
  prompt_outputs_failed_validation: 'Prompt outputs failed validation',
};

function detail(type: ErrorType, details: string, extra: ErrorDetail['extra_info'] = {}): ErrorDetail {
  return { type, message: MESSAGES[type], details, extra_info: extra };
}

function preview(value: unknown): unknown {
  const text = safeJson(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : value;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return '<a value too deep or cyclic to print>';
  }
}

/** Coerces a literal to the input's declared primitive type, or explains why it can't. */
export function coerceLiteral(
  name: string,
  spec: InputSpec,
  raw: unknown,
  env: ComboEnvironment,
): { value: unknown } | { error: ErrorDetail } {
  const value = raw !== null && typeof raw === 'object' && '__value__' in raw ? (raw as { __value__: unknown }).__value__ : raw;
  const extra = { input_name: name, received_value: preview(value) };
  const wrongType = (expected: string) =>
    ({ error: detail('invalid_input_type', `${name}: expected ${expected}, got ${safeJson(preview(value))}`, extra) }) as const;
  switch (spec.type) {
    case 'INT':
    case 'FLOAT': {
      const number = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      if (!Number.isFinite(number)) return wrongType(spec.type === 'INT' ? 'a whole number' : 'a number');
      if (spec.type === 'INT' && !Number.isInteger(number)) return wrongType('a whole number');
      if (spec.type === 'INT' && !Number.isSafeInteger(number)) {
        return { error: detail('value_bigger_than_max', `${name}: ${value} is too large to be exact; use at most ±${Number.MAX_SAFE_INTEGER}`, extra) };
      }
      const { min, max } = spec as { min?: number; max?: number };
      if (min !== undefined && number < min) {
        return { error: detail('value_smaller_than_min', `${name}: ${number} is smaller than the minimum ${min}`, { ...extra, input_config: { min } }) };
      }
      if (max !== undefined && number > max) {
        return { error: detail('value_bigger_than_max', `${name}: ${number} is bigger than the maximum ${max}`, { ...extra, input_config: { max } }) };
      }
      return { value: number };
    }
    case 'STRING':
      if (typeof value === 'string') return { value };
      if (typeof value === 'number' || typeof value === 'boolean') return { value: String(value) };
      return wrongType('text');
    case 'BOOLEAN':
      if (typeof value === 'boolean') return { value };
      if (value === 'true' || value === 'false') return { value: value === 'true' };
      return wrongType('true or false');
    case 'COMBO': {
      if (typeof value !== 'string' && typeof value !== 'number') return wrongType('one of the listed options');
      const options = comboOptions(spec as Extract<InputSpec, { type: 'COMBO' }>, env);
      const text = String(value);
      if (!options.includes(text)) {
        const shown = options.length > 12 ? `${options.slice(0, 12).join(', ')}, …` : options.join(', ');
        return {
          error: detail('value_not_in_list', `${name}: '${text}' not in [${shown || 'no options available'}]`, {
            ...extra,
            input_config: { options: options.slice(0, 50) },
          }),
        };
      }
      return { value: text };
    }
    default:
      return { error: detail('invalid_input_type', `${name}: expects a link from a ${spec.type} output, got a literal value`, extra) };
  }
}

class ErrorCollector {
  readonly nodeErrors: NodeErrors = Object.create(null) as NodeErrors;

  add(id: string, classType: string, error: ErrorDetail): void {
    const entry = (this.nodeErrors[id] ??= { errors: [], dependent_outputs: [], class_type: classType });
    entry.errors.push(error);
  }

  has(id: string): boolean {
    return id in this.nodeErrors;
  }
}

/**
 * A linked value the input does not accept, found once the source has run: a STRING output may feed a
 * COMBO input, so only then is its value known (validation checked the literal ones). Null when fine.
 */
function linkedValueError(definition: NodeDefinition, name: string, value: unknown, env: ComboEnvironment): ErrorDetail | null {
  const spec = definition.inputs.required[name] ?? definition.inputs.optional?.[name];
  if (spec?.type !== 'COMBO') return null;
  const checked = coerceLiteral(name, spec, value, env);
  return 'error' in checked ? checked.error : null;
}

/** A linked value that a COMBO input does not list: refused when it arrives, as ComfyUI's error type on that input. */
export class LinkedValueError extends NodeInputError {
  constructor(detail: ErrorDetail, nodeId?: string) {
    super(detail.extra_info.input_name ?? '', detail.details, nodeId);
    this.name = detail.type;
  }
}

/** Refuses a linked value that the node's COMBO input `name` does not list (one pass and streamed alike). */
export function checkLinkedValue(definition: NodeDefinition, name: string, value: unknown, env: ComboEnvironment, nodeId?: string): void {
  const refused = linkedValueError(definition, name, value, env);
  if (refused) throw new LinkedValueError(refused, nodeId);
}

function allInputs(definition: NodeDefinition): [string, InputSpec, boolean][] {
  const required = Object.entries(definition.inputs.required).map(([n, s]) => [n, s, true] as [string, InputSpec, boolean]);
  const optional = Object.entries(definition.inputs.optional ?? {}).map(([n, s]) => [n, s, false] as [string, InputSpec, boolean]);
  return [...required, ...optional];
}

function validateNode(
  id: string,
  node: PromptNode,
  definition: NodeDefinition,
  prompt: Prompt,
  registry: NodeRegistry,
  env: ComboEnvironment,
  errors: ErrorCollector,
): ValidNode {
  const literals: Record<string, unknown> = {};
  const links: Record<string, Link> = {};
  const fail = (error: ErrorDetail) => errors.add(id, node.class_type, error);
  for (const [name, spec, required] of allInputs(definition)) {
    const raw = node.inputs[name];
    if (raw === undefined) {
      if (required) fail(detail('required_input_missing', `${name}: required input is missing`, { input_name: name }));
      else if (isPrimitiveInput(spec) && spec.default !== undefined) literals[name] = spec.default;
      continue;
    }
    if (Array.isArray(raw)) {
      const link = asLink(raw);
      if (!link) {
        fail(detail('bad_linked_input', `${name}: a link must be [source node id, output slot], got ${safeJson(preview(raw))}`, { input_name: name, received_value: preview(raw) }));
        continue;
      }
      const [sourceId, slot] = link;
      const source = Object.hasOwn(prompt, sourceId) ? prompt[sourceId] : undefined;
      const sourceDefinition = source && typeof source === 'object' ? registry.get(String(source.class_type)) : undefined;
      if (!source) {
        fail(detail('bad_linked_input', `${name}: linked node ${sourceId} does not exist in the prompt`, { input_name: name, received_value: raw }));
        continue;
      }
      if (!sourceDefinition) continue; // the source reports its own missing_node_type
      const output = Number.isInteger(slot) && slot >= 0 ? sourceDefinition.outputs[slot] : undefined;
      if (!output) {
        fail(detail('bad_linked_input', `${name}: node ${sourceId} (${sourceDefinition.type}) has no output slot ${slot}; it has ${sourceDefinition.outputs.length}`, { input_name: name, received_value: raw }));
        continue;
      }
      if (!isTypeCompatible(output.type, spec.type)) {
        fail(detail('return_type_mismatch', `${name}: expects ${spec.type}, but node ${sourceId} output ${slot} (${output.name}) is ${output.type}`, { input_name: name, received_type: output.type, linked_node: raw }));
        continue;
      }
      links[name] = link;
      continue;
    }
    const coerced = coerceLiteral(name, spec, raw, env);
    if ('error' in coerced) fail(coerced.error);
    else literals[name] = coerced.value;
  }
  if (definition.validate && !errors.has(id)) {
    try {
      const message = definition.validate(literals, env);
      if (message) fail(detail('custom_validation_failed', message));
    } catch (error) {
      if (error instanceof NodeInputError) fail(detail('custom_validation_failed', `${error.inputName}: ${error.message}`, { input_name: error.inputName }));
      else fail(detail('custom_validation_failed', (error as Error).message));
    }
  }
  return { id, type: definition.type, title: node._meta?.title ?? definition.displayName, definition, literals, links };
}

/** Ancestors of the outputs (outputs included), found without recursion so deep chains cannot overflow. */
function reachableFrom(outputs: string[], prompt: Prompt): Set<string> {
  const seen = new Set<string>();
  const stack = [...outputs];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id) || !Object.hasOwn(prompt, id)) continue;
    seen.add(id);
    const inputs = prompt[id]?.inputs;
    if (!inputs || typeof inputs !== 'object') continue;
    for (const value of Object.values(inputs)) {
      const link = asLink(value);
      if (link && !seen.has(link[0])) stack.push(link[0]);
    }
  }
  return seen;
}

/** Nodes lying on a cycle among the given valid nodes (iterative three-colour DFS). */
export function nodesOnCycles(nodes: Map<string, ValidNode>): Set<string> {
  const state = new Map<string, 1 | 2>(); // 1 = on the stack, 2 = done
  const onCycle = new Set<string>();
  for (const start of nodes.keys()) {
    if (state.has(start)) continue;
    const path: string[] = [];
    const iterators: Iterator<Link>[] = [];
    const enter = (id: string) => {
      state.set(id, 1);
      path.push(id);
      iterators.push(Object.values(nodes.get(id)!.links)[Symbol.iterator]());
    };
    enter(start);
    while (path.length > 0) {
      const next = iterators[iterators.length - 1].next();
      if (next.done) {
        state.set(path.pop()!, 2);
        iterators.pop();
        continue;
      }
      const target = next.value[0];
      if (!nodes.has(target)) continue;
      if (state.get(target) === 1) path.slice(path.indexOf(target)).forEach((id) => onCycle.add(id));
      else if (!state.has(target)) enter(target);
    }
  }
  return onCycle;
}

export interface ValidateOptions {
  /** Run only these output nodes (ComfyUI's partial_execution_targets). */
  outputs?: string[];
}

export function validatePrompt(
  prompt: unknown,
  registry: NodeRegistry,
  env: ComboEnvironment,
  options: ValidateOptions = {},
): ValidationResult {
  const errors = new ErrorCollector();
  const shape = promptShapeErrors(prompt);
  if (shape.length > 0) {
    const isObject = prompt !== null && typeof prompt === 'object' && !Array.isArray(prompt);
    if (isObject) {
      for (const { nodeId, message } of shape) {
        if (nodeId !== undefined) errors.add(nodeId, String((prompt as Prompt)[nodeId]?.class_type ?? 'unknown'), detail('invalid_prompt', message));
      }
    }
    return { ok: false, error: detail('invalid_prompt', shape.map((s) => s.message).join('; ')), node_errors: errors.nodeErrors };
  }
  const nodes = prompt as Prompt;

  const missing = Object.entries(nodes).filter(([, node]) => !registry.get(node.class_type));
  for (const [id, node] of missing) {
    errors.add(id, node.class_type, detail('missing_node_type', `Node type '${node.class_type}' (node ${id}) is not known to this server; remove the node or update Limelight`, { class_type: node.class_type }));
  }

  const requested = options.outputs?.map(String);
  const outputs = requested ?? Object.keys(nodes).filter((id) => registry.get(nodes[id].class_type)?.output === true);
  const unknownTargets = (requested ?? []).filter((id) => !Object.hasOwn(nodes, id));
  if (outputs.length === 0 || unknownTargets.length > 0) {
    const why = unknownTargets.length > 0 ? `requested output nodes ${unknownTargets.join(', ')} are not in the prompt` : 'the prompt has no output node (add Encode, PreviewImage or Save Text)';
    if (missing.length > 0) return { ok: false, error: detail('missing_node_type', errors.nodeErrors[missing[0][0]].errors[0].details), node_errors: errors.nodeErrors };
    return { ok: false, error: detail('prompt_no_outputs', why), node_errors: errors.nodeErrors };
  }

  const valid = new Map<string, ValidNode>();
  for (const id of reachableFrom(outputs, nodes)) {
    const definition = registry.get(nodes[id].class_type);
    if (definition) valid.set(id, validateNode(id, nodes[id], definition, nodes, registry, env, errors));
  }
  for (const id of nodesOnCycles(valid)) {
    errors.add(id, nodes[id].class_type, detail('dependency_cycle', `node ${id} depends on its own output through a loop of links; break the loop`));
  }

  if (Object.keys(errors.nodeErrors).length === 0) return { ok: true, nodes: valid, outputs, node_errors: {} };
  return refusal(errors.nodeErrors, outputs, (output) => reachableFrom([output], nodes), missing.length > 0 ? 'missing_node_type' : 'prompt_outputs_failed_validation');
}

/** Node errors that stop a prompt: each lists the outputs it blocks; the top error summarises the first. */
export function refusal(
  nodeErrors: NodeErrors,
  outputs: string[],
  ancestorsOf: (output: string) => Iterable<string>,
  topType: ErrorType = 'prompt_outputs_failed_validation',
): Extract<ValidationResult, { ok: false }> {
  for (const output of outputs) {
    for (const id of ancestorsOf(output)) nodeErrors[id]?.dependent_outputs.push(output);
  }
  const failed = Object.keys(nodeErrors);
  const first = nodeErrors[failed[0]].errors[0];
  return {
    ok: false,
    error: detail(topType, `${failed.length} node(s) failed validation; first: node ${failed[0]}: ${first.details}`),
    node_errors: nodeErrors,
  };
}

/** Frame counts that cannot fit (server/engine/frame-counts.ts), as a refusal naming each node and input. */
export function frameCountRefusal(refusals: readonly FrameRefusal[], nodes: Map<string, ValidNode>, outputs: string[]): Extract<ValidationResult, { ok: false }> {
  const errors = new ErrorCollector();
  for (const { node, input, message } of refusals) {
    errors.add(node, nodes.get(node)?.type ?? 'unknown', detail('custom_validation_failed', `${input}: ${message}`, { input_name: input }));
  }
  return refusal(errors.nodeErrors, outputs, (output) => ancestors(output, nodes));
}
