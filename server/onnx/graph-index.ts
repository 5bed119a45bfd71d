// Lookups over an ONNX graph: who produces a tensor, which tensors are constants (shape-derived ones
// included), their dimensions where known, and the values of small ones (reshape targets, scales).
import type { GraphProto, NodeProto, TensorProto } from 'onnx-buf';
import { AttributeProto_AttributeType } from 'onnx-buf';
import { StaticShapes, type Dims } from './static-shapes.ts';

export class GraphIndex {
  readonly producers = new Map<string, NodeProto>();
  readonly initializers = new Map<string, TensorProto>();
  readonly graphInputs = new Set<string>();
  private readonly shapes: StaticShapes;

  constructor(readonly graph: GraphProto) {
    for (const node of graph.node) for (const output of node.output) this.producers.set(output, node);
    for (const tensor of graph.initializer) this.initializers.set(tensor.name, tensor);
    for (const input of graph.input) if (!this.initializers.has(input.name)) this.graphInputs.add(input.name);
    this.shapes = new StaticShapes(graph);
  }

  producer(tensor: string): NodeProto | undefined {
    return this.producers.get(tensor);
  }

  /**
   * Depends only on shapes, constants and initializers: an initializer, a Constant, or what a traced
   * export computes from them and tensor shapes at run time (Shape → Gather → Div → Cast → Pow).
   */
  isConstant(tensor: string): boolean {
    return this.shapes.isConstant(tensor);
  }

  constantTensor(tensor: string): TensorProto | undefined {
    const initializer = this.initializers.get(tensor);
    if (initializer) return initializer;
    const node = this.producers.get(tensor);
    if (node?.opType === 'Constant') return node.attribute.find((a) => a.name === 'value')?.t;
    if (node?.opType === 'Identity') return this.constantTensor(node.input[0]);
    return undefined;
  }

  /**
   * The elements of a small integer/float tensor when known: constant elements as numbers, elements
   * computed from dimensions known only at run time as null. Undefined when not traceable.
   */
  elements(tensor: string): (number | null)[] | undefined {
    return this.shapes.elementsOf(tensor);
  }

  /** The tensor's dimensions (null where only known at run time); undefined when even its rank is unknown. */
  dims(tensor: string): Dims | undefined {
    return this.shapes.dimsOf(tensor);
  }

  attributeInt(node: NodeProto, name: string): number | undefined {
    const attribute = node.attribute.find((a) => a.name === name);
    return attribute && attribute.type === AttributeProto_AttributeType.INT ? Number(attribute.i) : undefined;
  }

  attributeInts(node: NodeProto, name: string): number[] | undefined {
    const attribute = node.attribute.find((a) => a.name === name);
    return attribute ? attribute.ints.map(Number) : undefined;
  }
}
