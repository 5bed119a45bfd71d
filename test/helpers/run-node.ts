// Runs one node's execute directly, as the engine would after validation: the one place tests and
// benches hand a node untyped inputs.
import type { ExecuteContext, NodeDefinition } from '../../server/engine/node-contract.ts';
import { makeContext } from './context.ts';

export async function runNode(definition: NodeDefinition, inputs: Record<string, unknown>, ctx: ExecuteContext = makeContext()): Promise<unknown[]> {
  return (await definition.execute(inputs as never, ctx)).outputs;
}
