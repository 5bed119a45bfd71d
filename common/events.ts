// Events the engine emits while running a prompt: ComfyUI's names and payloads, which the server
// forwards over the WebSocket as they are.

export type EngineEvent =
  | { type: 'execution_start'; data: { prompt_id: string; timestamp: number } }
  | { type: 'execution_cached'; data: { nodes: string[]; prompt_id: string; timestamp: number } }
  | { type: 'executing'; data: { node: string | null; display_node: string | null; prompt_id: string } }
  | { type: 'progress'; data: { value: number; max: number; prompt_id: string; node: string } & ProgressDetail }
  /** Not a JSON event: the server sends it as a binary preview frame. */
  | { type: 'preview'; data: { node: string; prompt_id: string; format: 'png' | 'jpeg'; bytes: Uint8Array } }
  | { type: 'executed'; data: { node: string; display_node: string; output: Record<string, unknown>; prompt_id: string } }
  | { type: 'execution_success'; data: { prompt_id: string; timestamp: number } }
  | { type: 'execution_error'; data: ExecutionErrorData }
  | { type: 'execution_interrupted'; data: { prompt_id: string; node_id: string | null; node_type: string | null; executed: string[]; timestamp: number } };

export interface ExecutionErrorData {
  prompt_id: string;
  node_id: string;
  node_type: string;
  /** Limelight addition: the input the error is about, when known (the editor marks it). */
  input_name?: string;
  executed: string[];
  exception_message: string;
  exception_type: string;
  traceback: string[];
  current_inputs: Record<string, unknown>;
  current_outputs: Record<string, unknown>;
  timestamp: number;
}

export type EventSink = (event: EngineEvent) => void;

export interface ProgressDetail {
  /** 1-based frame being worked on, and the clip's frame count. */
  frame?: number;
  frames?: number;
  /** 1-based sampling step, and the step count. */
  step?: number;
  steps?: number;
  /** Free text for the progress bar ("decoding", "encoding"). */
  label?: string;
  /** Limelight addition, while a clip streams in chunks: frames through the whole graph so far, and the ETA. */
  clip?: ClipProgress;
}

export interface ClipProgress {
  /** Frames that went through every node of the stream, of the clip's total. */
  done: number;
  total: number;
  /** Seconds left at the pace so far. */
  eta_seconds: number;
}
