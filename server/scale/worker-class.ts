// A worker's class: what decides its floating-point results. onnxruntime can round differently between
// CPU instruction sets and between CPU and GPU, so one prompt's chunks go only to workers of one class.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export interface WorkerClass {
  /** `cpu`, `cuda`, `webgpu`… */
  device: string;
  /** The onnxruntime execution provider. */
  provider: string;
  onnxruntime: string;
  /** The CPU's feature flags (/proc/cpuinfo), sorted. */
  cpuFeatures: string[];
  /** A short digest of all of the above: the queue a class's chunks go on. */
  id: string;
}

/** The `flags` of the first processor in a /proc/cpuinfo text (ARM: `Features`), sorted. */
export function cpuFeatures(cpuinfo: string): string[] {
  const line = /^(?:flags|Features)\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? '';
  return [...new Set(line.split(/\s+/).filter(Boolean))].sort();
}

export function onnxruntimeVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('onnxruntime-node/package.json') as { version: string }).version;
}

export function workerClass(device: string, provider: string, onnxruntime: string, features: string[]): WorkerClass {
  const id = createHash('sha256').update(JSON.stringify([device, provider, onnxruntime, features])).digest('hex').slice(0, 16);
  return { device, provider, onnxruntime, cpuFeatures: features, id };
}

/** This machine's class for a device and provider. */
export function localWorkerClass(device: string, provider: string): WorkerClass {
  let cpuinfo = '';
  try {
    cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // Not Linux: the class then rests on device, provider and onnxruntime build alone.
  }
  return workerClass(device, provider, onnxruntimeVersion(), cpuFeatures(cpuinfo));
}
