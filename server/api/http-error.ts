// Errors a route throws to answer with a status and ComfyUI's error object shape.
import { LimelightError } from '../errors.ts';

export interface ErrorBody {
  error: { type: string; message: string; details: string; extra_info: Record<string, unknown> };
  node_errors?: Record<string, unknown>;
}

export class HttpError extends LimelightError {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }

  body(): ErrorBody {
    return errorBody(this.type, this.message);
  }
}

export function errorBody(type: string, details: string, extra_info: Record<string, unknown> = {}): ErrorBody {
  return { error: { type, message: details, details, extra_info } };
}
