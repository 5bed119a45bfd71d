// The one builder of ComfyUI's `execution_error` payload, for a node's failure in the engine and for
// failures around it (the engine itself, a server restart).
import type { ExecutionErrorData } from '../../common/events.ts';
import { NodeInputError } from '../errors.ts';

export interface ExecutionErrorSource {
  promptId: string;
  error: Error;
  node?: { id: string; type: string };
  executed?: string[];
  currentInputs?: Record<string, unknown>;
  /** The error came from a node's code: its stack says where. Failures around the engine carry none (their stack is the server's own). */
  withTraceback?: boolean;
}

export function executionError({ promptId, error, node, executed = [], currentInputs = {}, withTraceback = false }: ExecutionErrorSource): ExecutionErrorData {
  return {
    prompt_id: promptId,
    node_id: node?.id ?? '',
    node_type: node?.type ?? '',
    input_name: error instanceof NodeInputError ? error.inputName : undefined,
    executed,
    exception_message: error.message,
    exception_type: error.name,
    traceback: withTraceback ? (error.stack ?? '').split('\n').slice(1, 12).map((line) => line.trim()) : [],
    current_inputs: currentInputs,
    current_outputs: {},
    timestamp: Date.now(),
  };
}
