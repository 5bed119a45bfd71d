// The example workflows (editor format, widget values by name), built from one description so they
// cannot drift apart; the practitioner's quick job (server/cli/quick-job.ts) expands through
// `professionalWorkflow` too. workflows/make.ts writes them to disk.
import { ALL_NODES } from '../nodes/index.ts';
import type { Workflow } from '../common/workflow.ts';
import { SAMPLE as SAMPLE_MEDIA } from './demo/sample-media.ts';
import { DEMO_MODEL_NAME } from './demo/demo-model.ts';

type Link = [number, number];

interface Spec {
  id: number;
  type: string;
  title?: string;
  widgets?: Record<string, unknown>;
  links?: Record<string, Link>;
}

const DEFINITIONS = new Map(ALL_NODES.map((definition) => [definition.type, definition]));
const WIDGET_TYPES = new Set(['INT', 'FLOAT', 'STRING', 'BOOLEAN', 'COMBO']);

function outputTypes(type: string): string[] {
  return DEFINITIONS.get(type)?.outputs.map((output) => output.type) ?? [];
}

/**
 * Where each node of the builders below goes (by its id, which names its role): columns that follow the
 * flow from sources to outputs, each stacked top to bottom.
 */
const COLUMN: Record<number, number> = { 20: 0, 1: 0, 2: 0, 3: 1, 4: 1, 5: 2, 11: 2, 12: 2, 6: 3, 7: 3, 8: 4, 10: 4, 9: 5 };
const NODE_WIDTH = 300;
const COLUMN_GAP = 40;
/** litegraph's title bar, slot row and widget row heights, and the preview area output nodes grow. */
const [TITLE, SLOT, WIDGET, PREVIEW] = [30, 20, 24, 240];

/** The height a node of this type takes in the editor (widgets, sockets, and an output's preview). */
function nodeHeight(type: string): number {
  const definition = DEFINITIONS.get(type);
  if (!definition) return 160; // a Note
  const specs = Object.values({ ...definition.inputs.required, ...definition.inputs.optional });
  const widgets = specs.filter((spec) => WIDGET_TYPES.has(spec.type));
  const widgetRows = widgets.length + widgets.filter((spec) => 'controlAfterGenerate' in spec || 'upload' in spec).length;
  const socketRows = Math.max(specs.length - widgets.length, definition.outputs.length);
  return socketRows * SLOT + widgetRows * WIDGET + (definition.output ? PREVIEW : 0) + 12;
}

function layout(specs: Spec[]): Map<number, { pos: [number, number]; size: [number, number] }> {
  const tops = new Map<number, number>();
  const placed = new Map<number, { pos: [number, number]; size: [number, number] }>();
  for (const spec of specs) {
    const column = COLUMN[spec.id] ?? Math.max(...Object.values(COLUMN)) + 1;
    const top = tops.get(column) ?? 40 + TITLE;
    const height = nodeHeight(spec.type);
    placed.set(spec.id, { pos: [40 + column * (NODE_WIDTH + COLUMN_GAP), top], size: [NODE_WIDTH, height] });
    tops.set(column, top + height + TITLE + 50); // room for a line of text the node may show after a run
  }
  return placed;
}

function workflow(note: string, specs: Spec[]): Workflow {
  const links: Workflow['links'] = [];
  const outputs = new Map<string, number[]>();
  const nodes = specs.map((spec, index) => {
    const inputs = Object.entries(spec.links ?? {}).map(([name, [from, slot]]) => {
      const id = links.length + 1;
      const type = outputTypes(specs.find((s) => s.id === from)!.type)[slot];
      links.push([id, from, slot, spec.id, Object.keys(spec.links!).indexOf(name), type]);
      const key = `${from}:${slot}`;
      outputs.set(key, [...(outputs.get(key) ?? []), id]);
      return { name, type, link: id };
    });
    return { spec, index, inputs };
  });
  const places = layout(specs);
  return {
    last_node_id: Math.max(...specs.map((s) => s.id)),
    last_link_id: links.length,
    nodes: nodes.map(({ spec, index, inputs }) => ({
      id: spec.id,
      type: spec.type,
      ...(spec.title ? { title: spec.title } : {}),
      ...places.get(spec.id)!,
      flags: {},
      order: index,
      mode: 0,
      inputs,
      outputs: outputTypes(spec.type).map((type, slot) => ({ name: type, type, links: outputs.get(`${spec.id}:${slot}`) ?? [] })),
      properties: {},
      widgets_values: spec.type === 'Note' ? { text: note } : (spec.widgets ?? {}),
    })),
    links,
    groups: [],
    config: {},
    extra: {},
    version: 0.4,
  };
}

export const DEFAULT_PROMPT = 'red brick wall, golden ball';

/** Where the mask frames come from, as names in the input folder: a folder of images, a video, or one image. */
export interface MaskSource {
  kind: 'folder' | 'video' | 'image';
  name: string;
}

/** Frames kept of a clip or an image sequence: shorten both alike, so per-frame masks stay in step. */
const SELECTION_WIDGETS = { frame_load_cap: 0, skip_first_frames: 0, select_every_nth: 1 };
const VIDEO_WIDGETS = { ...SELECTION_WIDGETS, force_rate: 0, width: 0, height: 0 };

/** The mask loader as node 5, titled. */
function maskLoader(source: MaskSource, title: string): Spec {
  switch (source.kind) {
    case 'folder':
      return { id: 5, type: 'LoadImageSequence', title, widgets: { folder: source.name, ...SELECTION_WIDGETS } };
    case 'video':
      return { id: 5, type: 'LoadVideo', title, widgets: { video: source.name, ...VIDEO_WIDGETS } };
    case 'image':
      return { id: 5, type: 'LoadImage', title, widgets: { image: source.name } };
  }
}

interface Source {
  model: string;
  prompt: string;
  video: string;
  mask: MaskSource;
  maskTitle: string;
  feather: number;
}

/** The note, model, prompt, source clip and its latent (node 4), then the mask images as MASK (node 11). */
function start(source: Source): Spec[] {
  return [
    { id: 20, type: 'Note' },
    { id: 1, type: 'LoadModel', widgets: { model: source.model, device: 'auto' } },
    { id: 2, type: 'TextEncode', title: 'Prompt', widgets: { text: source.prompt }, links: { clip: [1, 1] } },
    { id: 3, type: 'LoadVideo', widgets: { video: source.video, ...VIDEO_WIDGETS } },
    { id: 4, type: 'VAEEncode', links: { vae: [1, 2], image: [3, 0] } },
    maskLoader(source.mask, source.maskTitle),
    { id: 11, type: 'MaskFromImage', widgets: { channel: 'luminance', threshold: 0.5, invert: false, feather: source.feather }, links: { images: [5, 0] } },
  ];
}

/** Sampler, decode, stability report against `mask` and Encode (which stores the report in its sidecar). */
function finish(model: Link, mask: Link, sampler: Record<string, unknown>, prefix: string): Spec[] {
  return [
    {
      id: 7,
      type: 'Sampler',
      widgets: { seed: 42, steps: 20, cfg: 7, sampler: 'euler', temperature: 0, denoise: 0.6, batch_size: 4, noise_per_frame: false, ...sampler },
      links: { model, positive: [2, 0], latent: [4, 0] },
    },
    { id: 8, type: 'VAEDecode', links: { vae: [1, 2], samples: [7, 0] } },
    { id: 10, type: 'StabilityReport', links: { source: [3, 0], result: [8, 0], mask } },
    { id: 9, type: 'Encode', widgets: { fps: 0, format: 'mp4-h264', crf: 19, filename_prefix: prefix }, links: { images: [8, 0], metrics: [10, 0] } },
  ];
}

const SAMPLE: Source = {
  model: DEMO_MODEL_NAME,
  prompt: DEFAULT_PROMPT,
  video: SAMPLE_MEDIA.video,
  mask: { kind: 'folder', name: SAMPLE_MEDIA.masksFolder },
  maskTitle: 'Mask frames',
  feather: 4,
};

export interface ProfessionalOptions {
  note: string;
  /** Encode's filename_prefix. */
  prefix: string;
  weight: number;
  model?: string;
  prompt?: string;
  video?: string;
  mask?: MaskSource;
  seed?: number;
  steps?: number;
  temperature?: number;
}

/**
 * Every frame masked: LoadVideo + mask → InjectCrossAttention → Sampler (fixed seed, batches of 4) →
 * Encode to mp4, with a stability report. Defaults are the sample clip and its per-frame mask folder.
 * A temperature above 0 switches to euler_ancestral, since plain euler is deterministic and ignores it.
 */
export function professionalWorkflow(options: ProfessionalOptions): Workflow {
  const { model = SAMPLE.model, prompt = SAMPLE.prompt, video = SAMPLE.video, mask = SAMPLE.mask, seed = 42, steps = 20, temperature = 0 } = options;
  return workflow(options.note, [
    ...start({ ...SAMPLE, model, prompt, video, mask }),
    { id: 6, type: 'InjectCrossAttention', widgets: { weight: options.weight, words: '' }, links: { model: [1, 0], mask: [11, 0] } },
    ...finish([6, 0], [11, 0], { seed, steps, temperature, sampler: temperature > 0 ? 'euler_ancestral' : 'euler' }, options.prefix),
  ]);
}

/** The example files, by name. */
export function exampleWorkflows(): Record<string, Workflow> {
  return {
    'professional-masked-v2v.json': professionalWorkflow({
      weight: 0.85,
      prefix: 'limelight/professional',
      note: 'Professional: every frame masked (the sample mask sequence), weight 0.85, fixed seed 42, frames sampled in batches of 4, encoded to mp4, with a stability report (also stored in the video\'s sidecar .json). Black in the mask = keep the footage; white = restyle.',
    }),
    'learning-low-weight.json': professionalWorkflow({
      weight: 0.1,
      prefix: 'limelight/low-weight',
      note: 'Learning: the same graph at weight 0.1, to see attention "go off the rails": the prompt leaks into the black (keep) area. Compare its stability report with the professional workflow.',
    }),
    'hobbyist-keyframes.json': workflow(
      'Hobbyist: masks only at frames 1, 30 and 60, morphed in between by Keyframe Interpolate; fewer steps for speed. Press Queue.',
      [
        ...start({ ...SAMPLE, mask: { kind: 'folder', name: SAMPLE_MEDIA.keyframesFolder }, maskTitle: 'Keyframe masks' }),
        { id: 12, type: 'KeyframeInterpolate', widgets: { keyframes: SAMPLE_MEDIA.keyframes.join(','), end_frame: 0, method: 'morph', easing: 'linear' }, links: { masks: [11, 0], frame_count: [3, 1] } },
        { id: 6, type: 'InjectCrossAttention', widgets: { weight: 0.8, words: '' }, links: { model: [1, 0], mask: [12, 0] } },
        ...finish([6, 0], [12, 0], { steps: 8, batch_size: 8 }, 'limelight/hobbyist'),
      ],
    ),
    'unmasked-baseline.json': workflow('Baseline: no attention mask, for comparison with the masked workflows.', [
      ...start({ ...SAMPLE, maskTitle: 'Mask frames (for the report only)', feather: 0 }),
      ...finish([1, 0], [11, 0], {}, 'limelight/baseline'),
    ]),
  };
}
