// The generated demo models, one per family, each built on first use (first-run.ts).
import { DEMO_MODEL_NAME, ensureDemoModel } from './demo-model.ts';
import { DEMO_SDXL_MODEL_NAME, ensureDemoSdxlModel } from './demo-sdxl.ts';
import { ensureSd3DemoModel, SD3_DEMO_MODEL_NAME } from './demo-sd3.ts';

/** Folder name → the builder that makes it current in a models folder (returns its path). */
export const DEMO_MODELS: Readonly<Record<string, (modelsFolder: string) => string>> = {
  [DEMO_MODEL_NAME]: ensureDemoModel,
  [DEMO_SDXL_MODEL_NAME]: ensureDemoSdxlModel,
  [SD3_DEMO_MODEL_NAME]: ensureSd3DemoModel,
};

export function isDemoModel(name: string): boolean {
  return Object.hasOwn(DEMO_MODELS, name);
}
