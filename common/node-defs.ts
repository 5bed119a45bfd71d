// Turns the server's `/object_info` entries into descriptions of editor node classes: which inputs are
// widgets (primitives and combos, each also drivable by a link) and which are sockets. Pure: no DOM,
// no litegraph, so it is unit-tested on its own and the graph layer only renders what it says.
import type { ObjectInfoEntry, ObjectInfoInput } from './object-info.ts';

export type WidgetKind = 'number' | 'combo' | 'text' | 'toggle';
export type UploadKind = 'image' | 'video';

export interface WidgetDescription {
  name: string;
  kind: WidgetKind;
  /** The socket type a link driving this widget must carry (INT, FLOAT, STRING, BOOLEAN, COMBO). */
  socketType: string;
  value: unknown;
  optional: boolean;
  tooltip?: string;
  /** number: min, max, step, precision, round; combo: values; text: multiline. */
  options: WidgetOptions;
  /** Seed-style inputs get a companion combo (fixed / increment / decrement / randomize): its widget name. */
  control?: string;
  /** Combos of input files offer an upload button and accept files dropped on the node. */
  uploads: UploadKind[];
}

export interface WidgetOptions {
  min?: number;
  max?: number;
  step?: number;
  precision?: number;
  /** Integers round to whole numbers. */
  integer?: boolean;
  values?: string[];
  multiline?: boolean;
}

export interface SocketDescription {
  name: string;
  type: string;
  optional: boolean;
  tooltip?: string;
}

/** One input row in declaration order: a widget (with its link socket) or a plain socket. */
export type InputDescription = { widget: WidgetDescription } | { socket: SocketDescription };

export interface NodeClassDescription {
  type: string;
  title: string;
  category: string;
  description: string;
  outputNode: boolean;
  inputs: InputDescription[];
  outputs: { name: string; type: string; tooltip?: string }[];
}

export const CONTROL_AFTER_GENERATE = 'control_after_generate';
export const SEED_CONTROL_MODES = ['fixed', 'increment', 'decrement', 'randomize'] as const;

const WIDGET_SOCKET_TYPES = ['INT', 'FLOAT', 'STRING', 'BOOLEAN', 'COMBO'];

function numberOption(options: Record<string, unknown>, key: string): number | undefined {
  const value = options[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** Decimal places shown for a float: from `round` when given, else from the step (0.01 → 2). */
function floatPrecision(step: number | undefined, round: number | undefined): number {
  const unit = round !== undefined && round > 0 ? round : step;
  if (unit === undefined || unit <= 0) return 2;
  if (unit >= 1) return 0;
  return Math.min(6, Math.ceil(-Math.log10(unit) - 1e-9));
}

function describeWidget(name: string, [type, options]: ObjectInfoInput, optional: boolean): WidgetDescription | null {
  const tooltip = typeof options.tooltip === 'string' ? options.tooltip : undefined;
  const common = { name, optional, tooltip, uploads: [] as UploadKind[] };
  if (Array.isArray(type) || type === 'COMBO') {
    const values = (Array.isArray(type) ? type : Array.isArray(options.options) ? options.options : []).map(String);
    const uploads: UploadKind[] = [];
    if (options.image_upload === true) uploads.push('image');
    if (options.video_upload === true) uploads.push('video');
    // As ComfyUI: the declared default even when the list doesn't hold it yet (a model still to be made).
    const value = typeof options.default === 'string' ? options.default : (values[0] ?? '');
    return { ...common, kind: 'combo', socketType: 'COMBO', value, options: { values }, uploads };
  }
  const min = numberOption(options, 'min');
  const max = numberOption(options, 'max');
  const step = numberOption(options, 'step');
  const fallback = numberOption(options, 'default') ?? (min !== undefined && min > 0 ? min : 0);
  switch (type) {
    case 'INT':
      return {
        ...common,
        kind: 'number',
        socketType: 'INT',
        value: Math.round(fallback),
        options: { min, max, step: step ?? 1, precision: 0, integer: true },
        control: options.control_after_generate === true ? CONTROL_AFTER_GENERATE : undefined,
      };
    case 'FLOAT':
      return {
        ...common,
        kind: 'number',
        socketType: 'FLOAT',
        value: fallback,
        options: { min, max, step: step ?? 0.01, precision: floatPrecision(step, numberOption(options, 'round')) },
      };
    case 'STRING':
      return {
        ...common,
        kind: 'text',
        socketType: 'STRING',
        value: typeof options.default === 'string' ? options.default : '',
        options: { multiline: options.multiline === true },
      };
    case 'BOOLEAN':
      return { ...common, kind: 'toggle', socketType: 'BOOLEAN', value: options.default === true, options: {} };
    default:
      return null;
  }
}

function describeInput(name: string, spec: ObjectInfoInput, optional: boolean): InputDescription {
  const [type, options] = spec;
  const isPrimitive = Array.isArray(type) || WIDGET_SOCKET_TYPES.includes(type);
  const widget = isPrimitive && options.forceInput !== true ? describeWidget(name, spec, optional) : null;
  if (widget) return { widget };
  const socketType = Array.isArray(type) ? 'COMBO' : type;
  const tooltip = typeof options.tooltip === 'string' ? options.tooltip : undefined;
  return { socket: { name, type: socketType, optional, tooltip } };
}

export function describeNodeClass(info: ObjectInfoEntry): NodeClassDescription {
  const required = info.input?.required ?? {};
  const optional = info.input?.optional ?? {};
  const order = info.input_order ?? { required: Object.keys(required), optional: Object.keys(optional) };
  const inputs: InputDescription[] = [
    ...order.required.filter((n) => required[n]).map((n) => describeInput(n, required[n], false)),
    ...(order.optional ?? []).filter((n) => optional[n]).map((n) => describeInput(n, optional[n], true)),
  ];
  // ComfyUI names the companion combo `control_after_generate`; a second seed on one node needs its own name.
  let controls = 0;
  for (const input of inputs) {
    if ('widget' in input && input.widget.control && controls++ > 0) input.widget.control = `${input.widget.name}_${CONTROL_AFTER_GENERATE}`;
  }
  const names = info.output_name ?? [];
  const tooltips = info.output_tooltips ?? [];
  return {
    type: info.name,
    title: info.display_name || info.name,
    category: info.category || 'uncategorized',
    description: info.description ?? '',
    outputNode: info.output_node === true,
    inputs,
    outputs: (info.output ?? []).map((type, i) => ({ name: names[i] ?? type, type, tooltip: tooltips[i] ?? undefined })),
  };
}

export function describeNodeClasses(objectInfo: Record<string, ObjectInfoEntry>): NodeClassDescription[] {
  return Object.values(objectInfo).map(describeNodeClass);
}

/** The value a seed widget takes after a queued run, by its control mode. `random` returns [0, 1). */
export function nextSeedValue(
  mode: string,
  value: number,
  options: Pick<WidgetOptions, 'min' | 'max'>,
  random: () => number = Math.random,
): number {
  const min = options.min ?? 0;
  const max = Math.min(options.max ?? Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  switch (mode) {
    case 'increment':
      return value + 1 > max ? min : value + 1;
    case 'decrement':
      return value - 1 < min ? max : value - 1;
    case 'randomize':
      return min + Math.floor(random() * (max - min + 1));
    default:
      return value;
  }
}

/**
 * A number widget's value on its grid, as ComfyUI rounds it: a multiple of the step, kept within the
 * range, with the float noise of repeated steps (`20.999999999999982`) rounded away.
 */
export function snapToStep(value: number, options: Pick<WidgetOptions, 'min' | 'max' | 'step' | 'precision'>): number {
  const { step, precision, min = -Infinity, max = Infinity } = options;
  const snapped = step && step > 0 ? Math.round(value / step) * step : value;
  const decimals = Math.max(precision ?? 0, step && step < 1 ? Math.ceil(-Math.log10(step) - 1e-9) : 0);
  return Math.min(max, Math.max(min, Number(snapped.toFixed(Math.min(decimals, 10)))));
}
