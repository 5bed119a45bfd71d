// The `limelight` command: run, validate and list nodes, headless.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ALL_NODES } from '../nodes/index.ts';
import { NodeRegistry } from './engine/node-registry.ts';
import { expandGlob } from './cli/glob.ts';
import { GraphFileError, graphFromJson, loadGraphFile, readJsonFile, type LoadedGraph } from './cli/load-graph.ts';
import { applyOverride, parseAssignment } from './cli/overrides.ts';
import { ProgressPrinter } from './cli/progress.ts';
import { expandQuickJob, isGraphJson, JobError, parseQuickJob } from './cli/quick-job.ts';
import { resolveSettings, type Settings } from './config.ts';
import { prepareFirstRun } from './first-run.ts';
import { isDemoModel } from './demo/demo-models.ts';
import type { Engine, RunResult } from './engine/engine.ts';
import { createEngine } from './create-engine.ts';
import { sidecarPath } from './media/workflow-metadata.ts';
import type { Prompt } from '../common/prompt.ts';
import type { NodeErrors } from '../common/node-errors.ts';
import { UsageError } from './errors.ts';

export const EXIT = { OK: 0, USAGE: 64, INVALID: 2, FAILED: 3, INTERRUPTED: 130 } as const;

const USAGE = `Usage: limelight <command> [options]

Commands:
  run <workflow-or-prompt.json>   run a workflow headless and print where the outputs went
      --set <node>.<input>=<value>  change an input (node by id, title or type); repeatable
      --each <node>.<input>=<glob>  run once per file in the input folder matching the glob
      --output DIR                  where outputs are written (default ./output)
  run <job.json> --video <clip>   a quick job: {"model", "attention_mask", "cross_attention_weight",
                                  "temperature", "seed", "steps", "prompt"?} expanded into the professional
                                  workflow; the clip (relative to here) and the mask (relative to the job
                                  file) are copied into the input folder unless already there
  validate <file>                 check a workflow or prompt and print its node errors
  nodes [type]                    list the node types and their inputs
  inspect-model <dir>             a model folder's parts, their inputs/outputs and what was detected
                                  (exit 2: not a usable model folder; 3: its UNet has no cross-attention to inject into)
  serve                           start the ComfyUI-compatible server and the editor (http://127.0.0.1:8188)
      --host ADDR                   address to listen on (default 127.0.0.1; 0.0.0.0 serves the network)
      --port N                      port (default 8188; 0 picks a free one)
      --allow-origin ORIGIN         let pages on ORIGIN (e.g. http://localhost:5173, or *) call the server; repeatable
      --allow-host NAME             a host name the server is reached by (e.g. studio.local); repeatable
      --token VALUE|auto            every request must carry this access token (or LIMELIGHT_TOKEN); auto
                                    generates one and prints the editor address with it
                                    (a --host other than loopback needs --allow-host and/or --token)
      --upload-limit-mb N           largest upload accepted (default 2048)
      --watch-all                   every connected editor sees every prompt's progress, not only its own
      --redis redis://[:PASSWORD@]HOST:PORT  coordinate "limelight worker" processes through this Redis
                                    (needs --token)

Folders: --input DIR --output DIR --temp DIR --models DIR --cache-dir DIR
         (or LIMELIGHT_INPUT, LIMELIGHT_OUTPUT, LIMELIGHT_TEMP, LIMELIGHT_MODELS, LIMELIGHT_CACHE)
Caches:  --memory-cache-mb N (default 4096)  --disk-cache-mb N (default 10240)

Exit codes: 0 done, 2 invalid workflow or job, 3 a node failed, 130 interrupted, 64 bad command line.`;

interface Io {
  out: (text: string) => void;
  err: NodeJS.WriteStream | { write(text: string): unknown; isTTY?: boolean };
}

const registry = new NodeRegistry(ALL_NODES);

const cliLog = { info: () => {}, warn: (message: string) => process.stderr.write(`warning: ${message}\n`) };

/** Generates the demo model and sample media when missing. */
function prepareSamples(settings: Settings, io: Io): Promise<void> {
  return prepareFirstRun(settings, (text) => io.err.write(`${text}\n`), { client: false });
}

/** Reads the graph file; generates the demo model and sample media first when the graph uses them. */
async function loadGraph(file: string, engine: Engine, settings: Settings, io: Io): Promise<LoadedGraph> {
  const graph = await loadGraphFile(file, registry.objectInfo(engine.env));
  if (/limelight-(demo|sample)/.test(JSON.stringify(graph.prompt))) await prepareSamples(settings, io);
  return graph;
}

/** A quick job expanded into the professional workflow, its clip and mask put into the input folder. */
async function loadQuickJob(file: string, video: string, engine: Engine, settings: Settings, io: Io): Promise<LoadedGraph> {
  const data = await readJsonFile(file);
  if (isGraphJson(data)) throw new UsageError(`--video is for quick jobs, and ${file} is a workflow or prompt; choose its clip with --set LoadVideo.video=<file in the input folder>`);
  const job = parseQuickJob(data, file);
  // Before expanding: the job may name the sample clip or masks, made with the demo model.
  if (isDemoModel(job.model)) await prepareSamples(settings, io);
  const places = { jobFile: path.resolve(file), video, inputFolder: settings.folders.input, modelsFolder: settings.folders.models };
  const workflow = await expandQuickJob(job, places, io.out);
  io.out(`${file}: expanded into the professional workflow; it is saved beside the video as its .json`);
  return graphFromJson(workflow, registry.objectInfo(engine.env));
}

export function formatNodeErrors(nodeErrors: NodeErrors, prompt: Prompt): string {
  const lines: string[] = [];
  for (const [id, entry] of Object.entries(nodeErrors)) {
    const title = prompt[id]?._meta?.title ?? entry.class_type;
    lines.push(`node ${id} (${title}):`);
    for (const e of entry.errors) lines.push(`  - ${e.details || e.message} [${e.type}]`);
  }
  return lines.join('\n');
}

function outputPaths(result: RunResult, settings: Settings): string[] {
  const files: string[] = [];
  for (const ui of Object.values(result.outputs)) {
    for (const value of Object.values(ui)) {
      if (!Array.isArray(value)) continue;
      for (const ref of value) {
        if (ref && typeof ref === 'object' && 'filename' in ref) {
          const { filename, subfolder = '', type = 'output' } = ref as { filename: string; subfolder?: string; type?: keyof Settings['folders'] };
          files.push(path.join(settings.folders[type] ?? settings.folders.output, subfolder, filename));
        }
      }
    }
  }
  return files;
}

async function runOnce(engine: Engine, graph: LoadedGraph, settings: Settings, io: Io, signal: AbortSignal, label: string): Promise<number> {
  const refuse = (validation: { error: { details: string }; node_errors: NodeErrors }) => {
    io.out(`${label}invalid workflow: ${validation.error.details}`);
    io.out(formatNodeErrors(validation.node_errors, graph.prompt));
    return EXIT.INVALID;
  };
  // Checked first for the node count; the pre-pass's probes are remembered, so run() repeating it is cheap.
  const validation = await engine.check(graph.prompt);
  if (!validation.ok) return refuse(validation);
  const titles = new Map(Object.entries(graph.prompt).map(([id, n]) => [id, n._meta?.title ?? n.class_type]));
  const printer = new ProgressPrinter(titles, validation.nodes.size, io.err);
  const result = await engine.run(graph.prompt, {
    promptId: `cli-${Date.now()}`,
    signal,
    onEvent: (event) => printer.handle(event),
    extraData: { prompt: graph.prompt, workflow: graph.workflow },
  });
  // A file the prompt reads can change between the check and the run.
  if (result.status === 'invalid' && result.validation && !result.validation.ok) return refuse(result.validation);
  if (result.status === 'interrupted') return EXIT.INTERRUPTED;
  if (result.status === 'error') return EXIT.FAILED;
  io.out(`${label}done: ${result.executed.length} node(s) ran, ${result.cached.length} reused from cache`);
  for (const [id, ui] of Object.entries(result.outputs)) {
    const texts = (ui as { text?: unknown[] }).text;
    if (Array.isArray(texts)) for (const text of texts) io.out(`${titles.get(id)}: ${String(text).trim()}`);
  }
  const files = outputPaths(result, settings);
  for (const file of files) {
    io.out(`output: ${file}`);
    const sidecar = sidecarPath(file);
    if (!files.includes(sidecar) && existsSync(sidecar)) io.out(`workflow: ${sidecar} (open it in the editor)`);
  }
  return EXIT.OK;
}

async function commandRun(files: string[], options: Record<string, unknown>, settings: Settings, io: Io): Promise<number> {
  if (files.length !== 1) throw new UsageError('run takes one workflow, prompt or quick job file');
  const engine = createEngine(settings, registry, cliLog);
  const video = options.video as string | undefined;
  // The saved workflow is the expanded job; changes made only to the prompt would not be in it.
  if (video !== undefined && options.set) throw new UsageError('--set does not apply to a quick job: change the job file, or run the workflow it saved with --set');
  const loaded = video === undefined ? await loadGraph(files[0], engine, settings, io) : await loadQuickJob(files[0], video, engine, settings, io);
  for (const issue of loaded.issues) io.out(`note: ${issue.message}`);
  let prompt = loaded.prompt;
  for (const assignment of (options.set as string[] | undefined) ?? []) prompt = applyOverride(prompt, assignment);

  // The run stays on this thread (no server to keep answering): the Sampler and the VAE yield before every
  // model call, so the handler runs and the run stops within the call under way. A second Ctrl+C quits.
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const each = options.each as string | undefined;
    if (!each) return await runOnce(engine, { ...loaded, prompt }, settings, io, controller.signal, '');
    const { node, input, value } = parseAssignment(each);
    const matches = await expandGlob(settings.folders.input, String(value));
    if (matches.length === 0) throw new UsageError(`--each ${each}: no file in ${settings.folders.input} matches "${value}"`);
    let worst: number = EXIT.OK;
    for (const [index, file] of matches.entries()) {
      if (controller.signal.aborted) return EXIT.INTERRUPTED;
      const single = applyOverride(prompt, `${node}.${input}=${JSON.stringify(file)}`);
      const code = await runOnce(engine, { ...loaded, prompt: single }, settings, io, controller.signal, `[${index + 1}/${matches.length} ${file}] `);
      if (code === EXIT.INTERRUPTED) return code;
      worst = Math.max(worst, code);
    }
    return worst;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

async function commandValidate(files: string[], settings: Settings, io: Io): Promise<number> {
  if (files.length !== 1) throw new UsageError('validate takes one workflow or prompt file');
  const engine = createEngine(settings, registry, cliLog);
  const loaded = await loadGraph(files[0], engine, settings, io);
  for (const issue of loaded.issues) io.out(`note: ${issue.message}`);
  const validation = await engine.check(loaded.prompt);
  if (validation.ok) {
    io.out(`valid: ${validation.nodes.size} node(s) would run for ${validation.outputs.length} output(s)`);
    return EXIT.OK;
  }
  io.out(`invalid: ${validation.error.details}`);
  const details = formatNodeErrors(validation.node_errors, loaded.prompt);
  if (details) io.out(details);
  return EXIT.INVALID;
}

function commandNodes(filter: string | undefined, settings: Settings, io: Io): number {
  const info = registry.objectInfo({ folders: settings.folders });
  const types = Object.keys(info).filter((t) => !filter || t.toLowerCase() === filter.toLowerCase());
  if (types.length === 0) {
    io.out(`no node type "${filter}"; known: ${Object.keys(info).join(', ')}`);
    return EXIT.USAGE;
  }
  for (const type of types.sort()) {
    const node = info[type];
    io.out(`${type}  (${node.display_name}, ${node.category}${node.output_node ? ', output' : ''})`);
    io.out(`    ${node.description}`);
    for (const [group, inputs] of [['required', node.input.required], ['optional', node.input.optional]] as const) {
      for (const [name, [kind, opts]] of Object.entries(inputs)) {
        const type = Array.isArray(kind) ? `one of ${kind.slice(0, 8).join(' | ')}${kind.length > 8 ? ' | …' : ''}` : kind;
        const range = opts.min !== undefined || opts.max !== undefined ? ` [${opts.min ?? ''}..${opts.max ?? ''}]` : '';
        const fallback = opts.default !== undefined ? ` = ${JSON.stringify(opts.default)}` : '';
        io.out(`    ${group === 'optional' ? '(optional) ' : ''}${name}: ${type}${range}${fallback}`);
      }
    }
    if (node.output.length > 0) io.out(`    → ${node.output.map((t, i) => `${node.output_name[i]}: ${t}`).join(', ')}`);
  }
  return EXIT.OK;
}

export async function main(argv: string[], io: Io = { out: (t) => console.log(t), err: process.stderr }): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        set: { type: 'string', multiple: true },
        each: { type: 'string' },
        video: { type: 'string' },
        input: { type: 'string' },
        output: { type: 'string' },
        temp: { type: 'string' },
        models: { type: 'string' },
        'cache-dir': { type: 'string' },
        'memory-cache-mb': { type: 'string' },
        'disk-cache-mb': { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        'allow-origin': { type: 'string', multiple: true },
        'allow-host': { type: 'string', multiple: true },
        token: { type: 'string' },
        'upload-limit-mb': { type: 'string' },
        'watch-all': { type: 'boolean' },
        redis: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    io.out(`${(error as Error).message}\n\n${USAGE}`);
    return EXIT.USAGE;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    io.out(USAGE);
    return values.help ? EXIT.OK : EXIT.USAGE;
  }
  try {
    const settings = resolveSettings({
      input: values.input,
      output: values.output,
      temp: values.temp,
      models: values.models,
      cacheDir: values['cache-dir'],
      memoryCacheMb: values['memory-cache-mb'] === undefined ? undefined : Number(values['memory-cache-mb']),
      diskCacheMb: values['disk-cache-mb'] === undefined ? undefined : Number(values['disk-cache-mb']),
    });
    switch (command) {
      case 'run':
        return await commandRun(rest, values, settings, io);
      case 'validate':
        return await commandValidate(rest, settings, io);
      case 'nodes':
        return commandNodes(rest[0], settings, io);
      case 'inspect-model': {
        if (rest.length !== 1) throw new UsageError('inspect-model takes one model folder');
        const [{ inspectModel }, { ModelContractError }] = await Promise.all([import('./onnx/inspect.ts'), import('./runtime/contract.ts')]);
        try {
          const report = await inspectModel(rest[0]);
          io.out(report.text);
          return report.crossAttentionFound ? EXIT.OK : EXIT.FAILED;
        } catch (error) {
          if (!(error instanceof ModelContractError)) throw error;
          io.out(error.message);
          return EXIT.INVALID;
        }
      }
      case 'serve': {
        const { parseServeFlags, serve } = await import('./api/serve-command.ts');
        try {
          // Checked before the editor is built and the samples made: a wrong command line fails at once.
          const options = parseServeFlags({
            host: values.host,
            port: values.port,
            allowOrigin: values['allow-origin'],
            allowHost: values['allow-host'],
            token: values.token ?? process.env.LIMELIGHT_TOKEN,
            uploadLimitMb: values['upload-limit-mb'],
            watchAll: values['watch-all'],
            redis: values.redis,
          });
          await prepareFirstRun(settings, (text) => io.out(text), { client: true });
          await serve(options, settings, io.out);
          return EXIT.OK;
        } catch (error) {
          io.out((error as Error).message);
          return error instanceof UsageError ? EXIT.USAGE : EXIT.FAILED;
        }
      }
      default:
        io.out(`unknown command "${command}"\n\n${USAGE}`);
        return EXIT.USAGE;
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.out(error.message);
      return EXIT.USAGE;
    }
    if (error instanceof GraphFileError || error instanceof JobError) {
      io.out(error.message);
      return EXIT.INVALID;
    }
    throw error;
  }
}
