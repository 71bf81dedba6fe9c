/** Building an IR graph node by node, each shape inferred from its inputs' (zoo networks). */
import { IRNode, Shape } from './graph';
import { inferShape } from './shapes';

/** A node as written by a builder: its fields, without the inferred shape (Input gives it). */
export type NodeSpec = { op: IRNode['op']; name: string; inputs: string[]; [k: string]: unknown };

export class GraphBuilder {
  readonly nodes: IRNode[] = [];
  private readonly shapes = new Map<string, Shape>();

  /** Append a node (inputs must already be in the graph); returns its name. */
  add(spec: NodeSpec): string {
    const node = { ...spec, shape: [] } as unknown as IRNode;
    node.shape = node.op === 'Input' ? (spec.shape as Shape) : inferShape(node, spec.inputs.map((i) => this.shape(i)));
    this.shapes.set(node.name, node.shape);
    this.nodes.push(node);
    return node.name;
  }

  shape(name: string): Shape {
    const s = this.shapes.get(name);
    if (!s) throw new Error(`graph builder: no node named ${name}`);
    return s;
  }
}
