// The node contract: every node type is a data declaration plus a pure `execute`.
import type { ProgressDetail } from '../../common/events.ts';
import { WIDGET_TYPES } from '../../common/socket-types.ts';
import type { Folders, Logger } from '../config.ts';
import type { FrameRule } from './frame-counts.ts';
import type { FrameRange } from '../frame-axis.ts';

interface InputCommon {
  tooltip?: string;
  /** Show as a socket rather than a widget (the value must come from a link). */
  forceInput?: boolean;
}

export interface IntInput extends InputCommon {
  type: 'INT';
  default: number;
  min?: number;
  max?: number;
  step?: number;
  /** Offer fixed/increment/randomize after each run in the editor (seeds). */
  controlAfterGenerate?: boolean;
}

export interface FloatInput extends InputCommon {
  type: 'FLOAT';
  default: number;
  min?: number;
  max?: number;
  step?: number;
  round?: number;
}

export interface StringInput extends InputCommon {
  type: 'STRING';
  default: string;
  multiline?: boolean;
  placeholder?: string;
}

export interface BooleanInput extends InputCommon {
  type: 'BOOLEAN';
  default: boolean;
  labelOn?: string;
  labelOff?: string;
}

/** Where a combo's options come from when they are not fixed. */
export interface ComboEnvironment {
  folders: Folders;
}

/** A choice among options; a fixed `as const` list types the value as the union of its options. */
export interface ComboInput<Option extends string = string> extends InputCommon {
  type: 'COMBO';
  /** Fixed options, or a function listing them now (files in the input folder, model folders…). */
  options: readonly Option[] | ((env: ComboEnvironment) => Option[]);
  default?: NoInfer<Option>;
  /** The editor offers an upload button that adds files of this kind to the input folder. */
  upload?: 'image' | 'video' | 'image,video';
}

/** An input fed only by a link from another node's output. */
export interface SocketInput extends InputCommon {
  type: string;
}

export type WidgetInput = IntInput | FloatInput | StringInput | BooleanInput | ComboInput;
export type InputSpec = WidgetInput | SocketInput;

/**
 * The TypeScript type of the value each socket type carries, for typing `execute`'s inputs. The engine
 * knows only the primitives; nodes/socket-values.ts adds the value types of the layers below the nodes.
 */
export interface SocketValueMap {
  INT: number;
  FLOAT: number;
  STRING: string;
  BOOLEAN: boolean;
}

export interface OutputSpec {
  type: string;
  name: string;
  tooltip?: string;
}

/** What a node sees while it runs. */
export interface ExecuteContext {
  nodeId: string;
  promptId: string;
  folders: Folders;
  signal: AbortSignal;
  log: Logger;
  /** Report progress; throws if the run was interrupted, so long loops stop at the next report. */
  progress(value: number, max: number, detail?: ProgressDetail): void;
  /**
   * Shows an image on the node while it runs (sent to the editor as a binary preview frame). Absent when
   * nothing shows previews (headless runs), so a node makes none.
   */
  preview?(format: 'png' | 'jpeg', bytes: Uint8Array): void;
  /** The prompt and the editor workflow being run (embedded as metadata in files a node writes). */
  extraData: { prompt?: unknown; workflow?: unknown };
  /**
   * Set when the engine streams the clip: the frames this call is about. A per-frame source produces just
   * these frames; other nodes get inputs that lie on the clip's frame axis (server/frame-axis.ts).
   */
  range?: FrameRange;
  /**
   * State a streamed node keeps from one chunk to the next (an open decoder), made on first use and closed
   * when the stream ends, however it ends. Absent outside streams.
   */
  keep?<T>(name: string, open: () => T, close: (value: T) => void | Promise<void>): T;
}

/** A node whose output frame i depends only on its inputs' frame i (and on whole values): it runs chunk by chunk. */
export interface PerFrameStream {
  kind: 'per-frame';
  /** IMAGE/MASK/LATENT inputs it reads whole, not by frame (keyframe masks). */
  whole?: readonly string[];
  /** Frames it processes per call: chunks start at multiples of it, so every call sees the frames it sees in one pass. */
  batch?(literals: Record<string, unknown>): number | undefined;
}

/** An output node that takes the clip's frames chunk by chunk, in order (an encoder, a report). */
export interface SinkStream<I = Record<string, unknown>> {
  kind: 'sink';
  /** Inputs known only when the stream ends (a report's metrics): given to `finish`, never to `write`. */
  late?: readonly string[];
  open(ctx: ExecuteContext): SinkWriter<I>;
}

export interface SinkWriter<I = Record<string, unknown>> {
  /** The next chunk's inputs (frames on the clip's axis); `range` is undefined when the clip comes whole. */
  write(inputs: I, range: FrameRange | undefined): Promise<void>;
  /** After the last chunk, with every input including the late ones: the node's result. */
  finish(inputs: I): Promise<NodeResult>;
  /** The run stopped: remove what was written, stop what was started. */
  abort(): Promise<void>;
}

/** A sink's one-pass execution: the whole clip as one chunk. */
export async function writeWhole<I>(writer: SinkWriter<I>, inputs: I): Promise<NodeResult> {
  try {
    await writer.write(inputs, undefined);
    return await writer.finish(inputs);
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/** The value an output socket carries, by its declared type. */
type OutputValue<S extends OutputSpec> = S extends { type: infer T extends keyof SocketValueMap } ? SocketValueMap[T] : unknown;

/** What `execute` returns: one value per declared output, plus an optional UI payload for output nodes. */
export interface NodeResult<Out extends readonly OutputSpec[] = readonly OutputSpec[]> {
  outputs: { -readonly [K in keyof Out]: OutputValue<Out[K]> };
  /** Shown on the node and kept in the history, e.g. `{images: [{filename, subfolder, type}]}`. */
  ui?: Record<string, unknown>;
}

/** The value an input receives: validation (literals) and the engine (linked COMBO values) guarantee it. */
type ValueOf<S extends InputSpec> = S extends IntInput | FloatInput
  ? number
  : S extends ComboInput<infer Option>
    ? Option
    : S extends StringInput
      ? string
      : S extends BooleanInput
        ? boolean
        : S extends { type: infer T extends keyof SocketValueMap }
          ? SocketValueMap[T]
          : unknown;

export type InputValues<R extends Record<string, InputSpec>, O extends Record<string, InputSpec>> = {
  [K in keyof R]: ValueOf<R[K]>;
} & {
  [K in keyof O]?: ValueOf<O[K]>;
};

/** A node type: R and O are its required and optional inputs, Out its outputs; values are typed from them. */
export interface NodeDefinition<
  R extends Record<string, InputSpec> = Record<string, InputSpec>,
  O extends Record<string, InputSpec> = Record<string, InputSpec>,
  Out extends readonly OutputSpec[] = readonly OutputSpec[],
> {
  /** Type id used in prompts and workflows (`class_type`). */
  type: string;
  displayName: string;
  /** Menu path, `/`-separated, e.g. `limelight/video`. */
  category: string;
  description: string;
  /** Bump when the node's behaviour changes: it is part of the cache key. */
  version: number;
  inputs: { required: R; optional?: O };
  outputs: Out;
  /** Output nodes are what a prompt executes; everything else runs only as their ancestor. */
  output?: boolean;
  /** Outputs may be written to the disk cache tier (they are plain data: typed arrays, numbers, strings). */
  persist?: boolean;
  /**
   * Outputs record this node's id (ctx.nodeId), so that an error found downstream names this node: the id is
   * then part of the cache key, and an output cached for another prompt never names a node of that prompt.
   */
  recordsNodeId?: boolean;
  /** Content identity of file inputs (e.g. a hash of the video file), so an edited file is not served from cache. */
  fingerprint?(inputs: Partial<InputValues<R, O>>, env: ComboEnvironment): string | Promise<string>;
  /** Checks beyond types and ranges; return an error message (or throw a NodeInputError naming the input), or null when the inputs are fine. */
  validate?(inputs: Partial<InputValues<R, O>>, env: ComboEnvironment): string | null;
  /** How many frames the outputs hold, known before anything runs (server/engine/frame-counts.ts). */
  frames?: FrameRule;
  /** How it treats the clip's frames when the engine streams the clip (absent: it needs whole values and runs once). */
  stream?: PerFrameStream | SinkStream<InputValues<R, O>>;
  execute(inputs: InputValues<R, O>, ctx: ExecuteContext): NodeResult<Out> | Promise<NodeResult<Out>>;
}

/** Declares a node type; its input values are typed from the declaration, and the definition keeps those types. */
export function defineNode<
  const R extends Record<string, InputSpec>,
  const O extends Record<string, InputSpec> = Record<never, InputSpec>,
  const Out extends readonly OutputSpec[] = readonly [],
>(definition: NodeDefinition<R, O, Out>): NodeDefinition<R, O, Out> {
  return definition;
}

/** The keys of a record as a typed options list (e.g. a COMBO over the operations a table implements). */
export function keysOf<K extends string>(record: Record<K, unknown>): K[] {
  return Object.keys(record) as K[];
}

/** Primitive inputs take a literal value (a widget in the editor) or a link. */
export function isPrimitiveInput(spec: InputSpec): spec is WidgetInput {
  return (WIDGET_TYPES as readonly string[]).includes(spec.type);
}

