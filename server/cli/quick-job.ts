// The practitioner's quick job: `limelight run job.json --video clip.mp4`, where job.json is
//   {"model", "attention_mask", "cross_attention_weight", "temperature", "seed", "steps", "prompt"?}
// It is checked key by key, its files are put into the input folder, and it expands into the
// professional example workflow through the same builder (server/example-workflows.ts).
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_PROMPT, professionalWorkflow, type MaskSource } from '../example-workflows.ts';
import { DEMO_MODELS, isDemoModel } from '../demo/demo-models.ts';
import type { Workflow } from '../../common/workflow.ts';
import { isWorkflow } from '../../common/workflow.ts';
import { IMAGE_EXTENSIONS, listInputFiles, VIDEO_EXTENSIONS } from '../../nodes/support/input-files.ts';
import { fitsClip } from '../frame-axis.ts';
import { probeVideo } from '../media/probe.ts';
import { isPromptBody } from '../media/workflow-metadata.ts';
import { detectFamily, FAMILY_NAMES, listModelFolders } from '../runtime/model-folder.ts';
import { stageIntoInput, type Staged, type StagedKind } from './stage-input.ts';
import { LimelightError } from '../errors.ts';

/** The job cannot run as written (exit code 2, like an invalid workflow). */
export class JobError extends LimelightError {}

interface Field {
  kind: 'string' | 'number' | 'integer';
  min?: number;
  max?: number;
  optional?: boolean;
  /** What the value means, for error messages. */
  means: string;
}

const FIELDS = {
  model: { kind: 'string', means: 'a model folder name in the models folder (any family: SD 1.x/2.x or SDXL), e.g. "limelight-demo" or "limelight-demo-sdxl"' },
  attention_mask: { kind: 'string', means: 'a mask image, a mask video or a folder of mask images (one per frame), relative to the job file' },
  cross_attention_weight: { kind: 'number', min: 0, max: 1, means: 'how firmly black in the mask keeps the footage; 0.8 is usual' },
  temperature: { kind: 'number', min: 0, max: 1, means: 'fresh noise between steps; 0 = deterministic' },
  seed: { kind: 'integer', min: 0, max: Number.MAX_SAFE_INTEGER, means: 'the noise seed' },
  steps: { kind: 'integer', min: 1, max: 200, means: 'denoising steps' },
  prompt: { kind: 'string', optional: true, means: `what to paint where the mask is white (default "${DEFAULT_PROMPT}")` },
} as const satisfies Record<string, Field>;

export interface QuickJob {
  model: string;
  attention_mask: string;
  cross_attention_weight: number;
  temperature: number;
  seed: number;
  steps: number;
  prompt?: string;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A job-shaped object: not a workflow, with at least one of the job's keys. */
export function looksLikeQuickJob(data: unknown): boolean {
  return isPlainObject(data) && !isGraphJson(data) && Object.keys(data).some((key) => Object.hasOwn(FIELDS, key));
}

/** A workflow, a POST /prompt body or an API prompt (values are nodes with a class_type). */
export function isGraphJson(data: unknown): boolean {
  if (isWorkflow(data) || isPromptBody(data)) return true;
  return isPlainObject(data) && Object.values(data).some((node) => isPlainObject(node) && 'class_type' in node);
}

function allowed(field: Field): string {
  const range = field.min !== undefined && field.max !== undefined ? ` from ${field.min} to ${field.max}` : '';
  return `${field.kind === 'integer' ? 'an integer' : `a ${field.kind}`}${range}: ${field.means}`;
}

function problem(key: string, value: unknown, field: Field): string | null {
  if (value === undefined) return field.optional ? null : `"${key}" is missing; it should be ${allowed(field)}`;
  const shown = JSON.stringify(value);
  const wrongType =
    field.kind === 'string' ? typeof value !== 'string' : typeof value !== 'number' || !Number.isFinite(value) || (field.kind === 'integer' && !Number.isInteger(value));
  if (wrongType) return `"${key}" is ${shown}; it should be ${allowed(field)}`;
  if (field.kind === 'string' && !field.optional && (value as string).trim() === '') return `"${key}" is empty; it should be ${allowed(field)}`;
  if ((field.min !== undefined && (value as number) < field.min) || (field.max !== undefined && (value as number) > field.max)) {
    return `"${key}" is ${shown}, outside the allowed range ${field.min} to ${field.max} (${field.means})`;
  }
  return null;
}

/** Checks every key; one JobError lists every problem, each naming the key, its value and what is allowed. */
export function parseQuickJob(data: unknown, file: string): QuickJob {
  if (!isPlainObject(data)) throw new JobError(`${file}: a quick job is a JSON object with the keys ${Object.keys(FIELDS).join(', ')}`);
  const problems = Object.keys(data)
    .filter((key) => !Object.hasOwn(FIELDS, key))
    .map((key) => `unknown key "${key}" (value ${JSON.stringify(data[key])}); the keys are ${Object.keys(FIELDS).join(', ')}`);
  for (const [key, field] of Object.entries(FIELDS)) {
    const found = problem(key, data[key], field);
    if (found) problems.push(found);
  }
  if (problems.length > 0) throw new JobError(`${file} is not a valid quick job:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return data as unknown as QuickJob;
}

function checkModel(model: string, modelsDir: string): void {
  if (isDemoModel(model)) return; // generated on first use
  const available = listModelFolders(modelsDir);
  if (!available.includes(model)) {
    throw new JobError(
      `"model" is ${JSON.stringify(model)}, which is not a model folder in ${modelsDir} (available: ${[...new Set([...Object.keys(DEMO_MODELS), ...available])].join(', ')}); ` +
        'put a diffusers/optimum ONNX export there or pass --models DIR',
    );
  }
}

/** file, folder, or null when nothing is there. */
async function kindOf(file: string): Promise<StagedKind | null> {
  const info = await stat(file).catch(() => null);
  return info ? (info.isDirectory() ? 'folder' : 'file') : null;
}

function hasExtension(file: string, extensions: readonly string[]): boolean {
  return extensions.includes(path.extname(file).toLowerCase());
}

/** What the mask path holds; checked before anything is copied. */
async function maskKind(value: string, file: string): Promise<MaskSource['kind']> {
  const what = `"attention_mask" is ${JSON.stringify(value)}, but ${file}`;
  const kind = await kindOf(file);
  if (kind === null) throw new JobError(`${what} was not found (a relative path starts at the job file's folder)`);
  if (kind === 'folder') {
    if (listInputFiles(file, IMAGE_EXTENSIONS).length > 0) return 'folder';
    throw new JobError(`${what} holds no mask images (${IMAGE_EXTENSIONS.join(', ')})`);
  }
  if (hasExtension(file, IMAGE_EXTENSIONS)) return 'image';
  if (hasExtension(file, VIDEO_EXTENSIONS)) return 'video';
  throw new JobError(`${what} is neither an image (${IMAGE_EXTENSIONS.join(', ')}) nor a video (${VIDEO_EXTENSIONS.join(', ')}); give a mask image, a mask video or a folder of mask images`);
}

/** Frames of a clip when its header says exactly (variable-rate clips are resampled on loading). */
async function exactFrameCount(file: string, what: string): Promise<number | undefined> {
  const info = await probeVideo(file).catch((error: Error) => {
    throw new JobError(`${what}: ${file} is not a readable video (${error.message})`);
  });
  return info.variableRate || info.frameCount <= 0 ? undefined : info.frameCount;
}

/** One mask for every frame, or one per frame: checked before anything is copied or sampled. */
async function checkMaskCount(value: string, maskFile: string, kind: MaskSource['kind'], video: string, videoFile: string): Promise<void> {
  if (kind === 'image') return;
  const masks = kind === 'folder' ? listInputFiles(maskFile, IMAGE_EXTENSIONS).length : await exactFrameCount(maskFile, `"attention_mask" ${JSON.stringify(value)}`);
  const frames = await exactFrameCount(videoFile, `--video ${video}`);
  if (masks === undefined || frames === undefined || fitsClip(masks, frames)) return;
  throw new JobError(
    `"attention_mask" is ${JSON.stringify(value)}, which has ${masks} masks, but the clip ${video} has ${frames} frames; give one mask for every frame, or one per frame`,
  );
}

async function stage(file: string, inputFolder: string, kind: StagedKind, what: string, report: (line: string) => void): Promise<Staged> {
  const staged = await stageIntoInput(file, inputFolder, kind).catch((error: Error) => {
    throw new JobError(`${what}: could not put ${file} into the input folder ${inputFolder}: ${error.message}`);
  });
  const where = path.join(inputFolder, staged.name);
  if (staged.how === 'copied') report(`${what}: copied ${file} to ${where}`);
  else if (staged.how === 'reused') report(`${what}: using ${where} (same content as ${file})`);
  else report(`${what}: using ${where}`);
  return staged;
}

export interface JobPlaces {
  /** The job file; attention_mask is relative to its folder. */
  jobFile: string;
  /** The clip, relative to the working directory. */
  video: string;
  inputFolder: string;
  modelsFolder: string;
}

/** The professional workflow for the job, with its files in the input folder. Encode writes to output/<job>/<clip>_NNNNN.mp4. */
export async function expandQuickJob(job: QuickJob, places: JobPlaces, report: (line: string) => void): Promise<Workflow> {
  checkModel(job.model, places.modelsFolder);
  report(`model ${job.model}: ${FAMILY_NAMES[detectFamily(path.join(places.modelsFolder, job.model))]}`);
  const videoFile = path.resolve(places.video);
  const videoKind = await kindOf(videoFile);
  if (videoKind === null) throw new JobError(`--video ${places.video}: ${videoFile} was not found`);
  if (videoKind !== 'file' || !hasExtension(videoFile, VIDEO_EXTENSIONS)) {
    throw new JobError(`--video ${places.video}: ${videoFile} is not a video file (${VIDEO_EXTENSIONS.join(', ')})`);
  }
  const maskFile = path.resolve(path.dirname(places.jobFile), job.attention_mask);
  const kind = await maskKind(job.attention_mask, maskFile);
  await checkMaskCount(job.attention_mask, maskFile, kind, places.video, videoFile);
  const mask: MaskSource = { kind, name: (await stage(maskFile, places.inputFolder, kind === 'folder' ? 'folder' : 'file', 'attention_mask', report)).name };
  const video = (await stage(videoFile, places.inputFolder, 'file', 'video', report)).name;
  const jobName = path.parse(places.jobFile).name;
  const settings = `weight ${job.cross_attention_weight}, seed ${job.seed}, ${job.steps} steps, temperature ${job.temperature}`;
  return professionalWorkflow({
    note: `Quick job ${path.basename(places.jobFile)} on ${video}, expanded into the professional workflow: every frame masked by ${mask.name}, ${settings}. Black in the mask = keep the footage; white = restyle.`,
    prefix: `${jobName}/${path.parse(video).name}`,
    model: job.model,
    prompt: job.prompt ?? DEFAULT_PROMPT,
    video,
    mask,
    weight: job.cross_attention_weight,
    seed: job.seed,
    steps: job.steps,
    temperature: job.temperature,
  });
}
