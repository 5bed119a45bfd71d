// Node lookup and the ComfyUI `/object_info` shape generated from the declarations.
import type { ComboEnvironment, ComboInput, InputSpec, NodeDefinition } from './node-contract.ts';
import type { ObjectInfoEntry, ObjectInfoInput } from '../../common/object-info.ts';

export function comboOptions(spec: ComboInput, env: ComboEnvironment): string[] {
  if (typeof spec.options !== 'function') return [...spec.options];
  try {
    return spec.options(env);
  } catch {
    return [];
  }
}

function describeInput(spec: InputSpec, env: ComboEnvironment): ObjectInfoInput {
  const { type: _type, ...rest } = spec as InputSpec & Record<string, unknown>;
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rest)) {
    if (key === 'options' || key === 'upload' || key === 'controlAfterGenerate' || value === undefined) continue;
    options[key] = value;
  }
  if (spec.type === 'COMBO') {
    const combo = spec as ComboInput;
    if (combo.upload?.includes('image')) options.image_upload = true;
    if (combo.upload?.includes('video')) options.video_upload = true;
    return [comboOptions(combo, env), options];
  }
  if (spec.type === 'INT' && 'controlAfterGenerate' in spec && spec.controlAfterGenerate) {
    options.control_after_generate = true;
  }
  return [spec.type, options];
}

export class NodeRegistry {
  private readonly byType = new Map<string, NodeDefinition>();

  constructor(definitions: readonly NodeDefinition[]) {
    for (const definition of definitions) {
      if (this.byType.has(definition.type)) throw new Error(`node type ${definition.type} is declared twice`);
      this.byType.set(definition.type, definition);
    }
  }

  get(type: string): NodeDefinition | undefined {
    return this.byType.get(type);
  }

  types(): string[] {
    return [...this.byType.keys()];
  }

  objectInfoFor(definition: NodeDefinition, env: ComboEnvironment): ObjectInfoEntry {
    const required = definition.inputs.required;
    const optional = definition.inputs.optional ?? {};
    const map = (inputs: Record<string, InputSpec>) =>
      Object.fromEntries(Object.entries(inputs).map(([name, spec]) => [name, describeInput(spec, env)]));
    return {
      input: { required: map(required), optional: map(optional), hidden: { prompt: 'PROMPT', extra_pnginfo: 'EXTRA_PNGINFO' } },
      input_order: { required: Object.keys(required), optional: Object.keys(optional) },
      output: definition.outputs.map((o) => o.type),
      output_is_list: definition.outputs.map(() => false),
      output_name: definition.outputs.map((o) => o.name),
      output_tooltips: definition.outputs.map((o) => o.tooltip ?? null),
      name: definition.type,
      display_name: definition.displayName,
      description: definition.description,
      category: definition.category,
      python_module: 'limelight',
      output_node: definition.output === true,
      version: definition.version,
    };
  }

  objectInfo(env: ComboEnvironment): Record<string, ObjectInfoEntry> {
    return Object.fromEntries([...this.byType.values()].map((d) => [d.type, this.objectInfoFor(d, env)]));
  }
}
