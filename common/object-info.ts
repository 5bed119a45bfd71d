// ComfyUI's `/object_info` entry: how the server describes a node type to the editor and API clients.

export type ObjectInfoInput = [string | string[], Record<string, unknown>];

export interface ObjectInfoEntry {
  input: {
    required: Record<string, ObjectInfoInput>;
    optional: Record<string, ObjectInfoInput>;
    hidden: Record<string, string>;
  };
  input_order: { required: string[]; optional: string[] };
  output: string[];
  output_is_list: boolean[];
  output_name: string[];
  output_tooltips: (string | null)[];
  name: string;
  display_name: string;
  description: string;
  category: string;
  python_module: string;
  output_node: boolean;
  /** Limelight addition: part of the cache key, shown in the editor's node info. */
  version: number;
}
