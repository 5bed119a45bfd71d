import { NodeInputError } from '../../server/errors.ts';
// Failures on a user's file become input errors naming the input and the fix; interrupts pass through.

export function asInputError(error: unknown, inputName: string, fix: string, signal: AbortSignal): Error {
  if (signal.aborted || error instanceof NodeInputError || !(error instanceof Error)) return error as Error;
  return new NodeInputError(inputName, `${error.message}. ${fix}`);
}
