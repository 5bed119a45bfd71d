// ComfyUI's `node_errors`: how a refused prompt names each node's problems (POST /prompt's 400 body).

export type ErrorType =
  | 'invalid_prompt'
  | 'missing_node_type'
  | 'prompt_no_outputs'
  | 'required_input_missing'
  | 'bad_linked_input'
  | 'return_type_mismatch'
  | 'invalid_input_type'
  | 'value_smaller_than_min'
  | 'value_bigger_than_max'
  | 'value_not_in_list'
  | 'custom_validation_failed'
  | 'dependency_cycle'
  | 'prompt_outputs_failed_validation';

export interface ErrorDetail {
  type: ErrorType;
  message: string;
  details: string;
  extra_info: { input_name?: string; received_value?: unknown; [key: string]: unknown };
}

export interface NodeErrorEntry {
  errors: ErrorDetail[];
  dependent_outputs: string[];
  class_type: string;
}

export type NodeErrors = Record<string, NodeErrorEntry>;
