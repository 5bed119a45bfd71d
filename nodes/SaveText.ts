import { writeFile } from 'node:fs/promises';
import { reserveOutputFile, validateOutputPrefix } from '../server/media/output-files.ts';
import { defineNode } from '../server/engine/node-contract.ts';
import { NodeInputError } from '../server/errors.ts';

/** Text for any value: strings as they are, everything else as indented JSON (typed arrays summarised). */
function formatValue(value: unknown): { text: string; ext: string } {
  if (typeof value === 'string') return { text: value, ext: '.txt' };
  const json = JSON.stringify(
    value,
    (_key, v: unknown) => (ArrayBuffer.isView(v) ? `<${v.constructor.name} × ${(v as Uint8Array).length}>` : v),
    2,
  );
  return { text: json ?? String(value), ext: '.json' };
}

export default defineNode({
  type: 'SaveText',
  displayName: 'Save Text',
  category: 'utils/output',
  description: 'Writes any value (text, number, metrics) to a .txt or .json file in the output folder and shows it.',
  version: 1,
  inputs: {
    required: {
      value: { type: '*', tooltip: 'text is saved as .txt, anything else as .json' },
      filename_prefix: { type: 'STRING', default: 'limelight/text' },
    },
  },
  outputs: [],
  output: true,
  validate: ({ filename_prefix }, { folders }) => validateOutputPrefix(folders.output, filename_prefix),
  execute: async ({ value, filename_prefix }, ctx) => {
    const { text, ext } = formatValue(value);
    let reserved;
    try {
      reserved = await reserveOutputFile(ctx.folders.output, filename_prefix, ext);
    } catch (error) {
      throw new NodeInputError('filename_prefix', (error as Error).message);
    }
    await writeFile(reserved.path, text.endsWith('\n') ? text : `${text}\n`);
    return { outputs: [], ui: { text: [text], files: [reserved.ref] } };
  },
});
