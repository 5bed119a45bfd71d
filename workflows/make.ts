// Writes the example workflows built in server/example-workflows.ts. Run: npx tsx workflows/make.ts
import { writeFileSync } from 'node:fs';
import { exampleWorkflows } from '../server/example-workflows.ts';

for (const [name, data] of Object.entries(exampleWorkflows())) writeFileSync(new URL(name, import.meta.url), `${JSON.stringify(data, null, 2)}\n`);
