// Generates the example workflows (editor format, widget values by name) from one description, so the
// four files cannot drift apart. Run: npx tsx workflows/make.ts
import { writeFileSync } from 'node:fs';

interface Spec {
  id: number;
  type: string;
  title?: string;
  widgets?: Record<string, unknown>;
  links?: Record<string, [number, number]>;
}

const TYPES: Record<string, string[]> = {
  LoadModel: ['MODEL', 'CLIP', 'VAE'],
  TextEncode: ['CONDITIONING'],
  LoadVideo: ['IMAGE', 'INT', 'FLOAT'],
  VAEEncode: ['LATENT'],
  VAEDecode: ['IMAGE'],
  Sampler: ['LATENT'],
  InjectCrossAttention: ['MODEL'],
  MaskFromImage: ['MASK'],
  LoadImageSequence: ['IMAGE'],
  KeyframeInterpolate: ['MASK'],
  Encode: [],
  StabilityReport: ['METRICS'],
  PreviewImage: [],
  Note: [],
};

function workflow(note: string, specs: Spec[]): unknown {
  const links: unknown[] = [];
  const outputs = new Map<string, number[]>();
  const nodes = specs.map((spec, index) => {
    const inputs = Object.entries(spec.links ?? {}).map(([name, [from, slot]]) => {
      const id = links.length + 1;
      const type = TYPES[specs.find((s) => s.id === from)!.type][slot];
      links.push([id, from, slot, spec.id, Object.keys(spec.links!).indexOf(name), type]);
      const key = `${from}:${slot}`;
      outputs.set(key, [...(outputs.get(key) ?? []), id]);
      return { name, type, link: id };
    });
    return { spec, index, inputs };
  });
  return {
    last_node_id: Math.max(...specs.map((s) => s.id)),
    last_link_id: links.length,
    nodes: nodes.map(({ spec, index, inputs }) => ({
      id: spec.id,
      type: spec.type,
      ...(spec.title ? { title: spec.title } : {}),
      pos: [40 + 300 * Math.floor(index / 3), 40 + 260 * (index % 3)],
      size: [270, 200],
      flags: {},
      order: index,
      mode: 0,
      inputs,
      outputs: (TYPES[spec.type] ?? []).map((type, slot) => ({ name: type, type, links: outputs.get(`${spec.id}:${slot}`) ?? [] })),
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

const MODEL = { id: 1, type: 'LoadModel', widgets: { model: 'limelight-demo', device: 'auto' } };
const PROMPT = { id: 2, type: 'TextEncode', title: 'Prompt', widgets: { text: 'red brick wall, golden ball' }, links: { clip: [1, 1] as [number, number] } };
const VIDEO = { id: 3, type: 'LoadVideo', widgets: { video: 'limelight-sample.mp4', frame_load_cap: 0, skip_first_frames: 0, select_every_nth: 1, force_rate: 0, width: 0, height: 0 } };
const ENCODE_LATENT = { id: 4, type: 'VAEEncode', links: { vae: [1, 2] as [number, number], image: [3, 0] as [number, number] } };
const decode = { id: 8, type: 'VAEDecode', links: { vae: [1, 2] as [number, number], samples: [7, 0] as [number, number] } };
const encode = (prefix: string) => ({ id: 9, type: 'Encode', widgets: { fps: 0, format: 'mp4-h264', crf: 19, filename_prefix: prefix }, links: { images: [8, 0] as [number, number] } });
const sampler = (model: [number, number], widgets: Record<string, unknown>) => ({
  id: 7,
  type: 'Sampler',
  widgets: { seed: 42, steps: 20, cfg: 7, sampler: 'euler', temperature: 0, denoise: 0.6, batch_size: 4, noise_per_frame: false, ...widgets },
  links: { model, positive: [2, 0] as [number, number], latent: [4, 0] as [number, number] },
});
const report = (mask: [number, number]) => ({ id: 10, type: 'StabilityReport', links: { source: [3, 0] as [number, number], result: [8, 0] as [number, number], mask } });

/** The note, model, prompt and source clip every example starts with, then the mask images as MASK (node 11). */
function start(title: string, folder: string, feather: number): Spec[] {
  return [
    { id: 20, type: 'Note' },
    MODEL,
    PROMPT,
    VIDEO,
    ENCODE_LATENT,
    { id: 5, type: 'LoadImageSequence', title, widgets: { folder } },
    { id: 11, type: 'MaskFromImage', widgets: { channel: 'luminance', threshold: 0.5, invert: false, feather }, links: { images: [5, 0] } },
  ];
}

function masked(weight: number, prefix: string, note: string) {
  return workflow(note, [
    ...start('Mask frames', 'limelight-sample-masks', 4),
    { id: 6, type: 'InjectCrossAttention', widgets: { weight, words: '' }, links: { model: [1, 0], mask: [11, 0] } },
    sampler([6, 0], {}),
    decode,
    encode(prefix),
    report([11, 0]),
  ]);
}

const files: Record<string, unknown> = {
  'professional-masked-v2v.json': masked(
    0.85,
    'limelight/professional',
    'Professional: every frame masked (the sample mask sequence), weight 0.85, fixed seed 42, frames sampled in batches of 4, encoded to mp4, with a stability report. Black in the mask = keep the footage; white = restyle.',
  ),
  'learning-low-weight.json': masked(
    0.1,
    'limelight/low-weight',
    'Learning: the same graph at weight 0.1, to see attention "go off the rails": the prompt leaks into the black (keep) area. Compare its stability report with the professional workflow.',
  ),
  'hobbyist-keyframes.json': workflow(
    'Hobbyist: masks only at frames 1, 30 and 60, morphed in between by Keyframe Interpolate; fewer steps for speed. Press Queue.',
    [
      ...start('Keyframe masks', 'limelight-sample-keyframes', 4),
      { id: 12, type: 'KeyframeInterpolate', widgets: { keyframes: '1,30,60', end_frame: 0, method: 'morph', easing: 'linear' }, links: { masks: [11, 0], frame_count: [3, 1] } },
      { id: 6, type: 'InjectCrossAttention', widgets: { weight: 0.8, words: '' }, links: { model: [1, 0], mask: [12, 0] } },
      sampler([6, 0], { steps: 8, batch_size: 8 }),
      decode,
      encode('limelight/hobbyist'),
      report([12, 0]),
    ],
  ),
  'unmasked-baseline.json': workflow('Baseline: no attention mask, for comparison with the masked workflows.', [
    ...start('Mask frames (for the report only)', 'limelight-sample-masks', 0),
    sampler([1, 0], {}),
    decode,
    encode('limelight/baseline'),
    report([11, 0]),
  ]),
};

for (const [name, data] of Object.entries(files)) writeFileSync(new URL(name, import.meta.url), `${JSON.stringify(data, null, 2)}\n`);
