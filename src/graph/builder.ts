/** GraphBuilder: an ONNX graph from small primitives (ops, constants, external weights), with readable node names. */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** ONNX element types used here (TensorProto.DataType). */
export const DT = { FLOAT: 1, INT64: 7, BOOL: 9, INT32: 6, BFLOAT16: 16, FLOAT16: 10, UINT8: 2 } as const;
export type ElemType = (typeof DT)[keyof typeof DT];

export type AttrValue = number | string | number[] | { float: number } | { floats: number[] } | { tensor: onnxProto.onnx.ITensorProto };

/** A weight stored in the external data file: the graph only names it. */
import { isHalfWeight, type ExternalWeight } from './external.js';
import { quantNames } from './quantize.js';
export type { ExternalWeight } from './external.js';

export interface ValueInfo {
  name: string;
  elemType: ElemType;
  /** numbers are fixed sizes, strings are symbolic dimensions */
  shape: (number | string)[];
}

/**
 * Builds an ONNX graph from small primitives. Every `op` returns its output names, derived from
 * the node name as in onnxruntime-genai (`/model/layers.3/attn/q_proj/MatMul/output_0`), so a
 * dumped graph reads like the model.
 */
/**
 * MatMulNBits' accuracy level: 4 computes with int8 activations (the fast path on CPUs with int8 dot
 * products); 0/1 would dequantize to float32.
 */
const QUANT_ACCURACY_LEVEL = 4;

/** The end of a slice that runs to the end of an axis. */
export const INT64_MAX = Number.MAX_SAFE_INTEGER;

export class GraphBuilder {
  readonly nodes: onnxProto.onnx.INodeProto[] = [];
  readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  private readonly usedNames = new Set<string>();
  private readonly constCache = new Map<string, string>();
  private readonly weightNames = new Set<string>();
  /** 16-bit weights' float32 Casts, one per (weight, gate). */
  private readonly castWeights = new Map<string, string>();
  private usesMicrosoftOps = false;

  /**
   * `location`: where the graph says a weight's bytes are — one file for all (relative to the graph's
   * folder), or a function of the weight (weights read in place from checkpoint files).
   */
  constructor(
    private readonly weights: Map<string, ExternalWeight>,
    private readonly location: string | ((w: ExternalWeight) => string),
  ) {}

  input(name: string, elemType: ElemType, shape: (number | string)[]): string {
    this.inputs.push({ name, elemType, shape });
    return name;
  }

  output(name: string, elemType: ElemType, shape: (number | string)[]): void {
    this.outputs.push({ name, elemType, shape });
  }

  /**
   * Reference an exported weight by its canonical name; throws, naming it, if the architecture did
   * not export it. A 16-bit weight comes back as float32 through a Cast; given `gate` (the activation
   * it is about to multiply), the Cast runs only once `gate` exists, so that one layer's float32
   * copies are alive at a time rather than every layer's from the start of the run.
   */
  weight(name: string, gate?: string): string {
    const w = this.initializer(name);
    if (!isHalfWeight(w)) return name;
    const key = `${name}\u0000${gate ?? ''}`;
    let f = this.castWeights.get(key);
    if (f === undefined) {
      const at = `/weights/${name}${gate ? `/${this.castWeights.size}` : ''}`;
      // Reshape to its own shape: an alias (no copy) that waits for gate
      const src = gate ? this.op1('Reshape', [name, this.afterGate(this.constI(w.dims), gate, at)], `${at}/after_gate`) : name;
      f = this.cast(src, DT.FLOAT, `${at}/to_float`);
      this.castWeights.set(key, f);
    }
    return f;
  }

  /** Whether an exported weight is stored in 16 bits (weight() casts it where it is used). */
  isHalf(name: string): boolean {
    const w = this.weights.get(name);
    return w !== undefined && isHalfWeight(w);
  }

  /**
   * Rows [r0, r1) of a 16-bit weight as float32, cut and cast only once `gate` exists: a large matrix
   * (the unembedding) multiplied a block of rows at a time never exists whole in float32.
   */
  halfRows(name: string, r0: number, r1: number, gate: string): string {
    const w = this.initializer(name);
    if (!isHalfWeight(w)) throw new Error(`graph builder: '${name}' is not a 16-bit weight`);
    const at = `/weights/${name}/rows_${r0}_${r1}`;
    const rows = this.op1('Slice', [name, this.afterGate(this.constI([r0]), gate, at), this.constI([r1]), this.constI([0])], `${at}/slice`);
    return this.cast(rows, DT.FLOAT, `${at}/to_float`);
  }

  /** The int64 tensor `x` unchanged, but only once `gate` exists (x + 0 · its first dimension). */
  private afterGate(x: string, gate: string, at: string): string {
    const zero = this.mul(this.op1('Shape', [gate], `${at}/gate_shape`, { end: 1 }), this.constI([0]), `${at}/gate_zero`);
    return this.add(x, zero, `${at}/gated`);
  }

  /** Register an exported weight as an initializer (external data) once; its entry. */
  private initializer(name: string): ExternalWeight {
    const w = this.weights.get(name);
    if (!w) throw new Error(`weight contract: the graph reads '${name}' (its spec declares it), but the architecture did not export it`);
    if (!this.weightNames.has(name)) {
      this.weightNames.add(name);
      this.initializers.push({
        name,
        dims: w.dims,
        dataType: w.dtype === 'uint8' ? DT.UINT8 : w.dtype === 'bfloat16' ? DT.BFLOAT16 : w.dtype === 'float16' ? DT.FLOAT16 : DT.FLOAT,
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: typeof this.location === 'string' ? this.location : this.location(w) },
          { key: 'offset', value: String(w.offset) },
          { key: 'length', value: String(w.length) },
        ],
      });
    }
    return w;
  }

  /** Exported weights the graph has not referenced (so far), in export order. */
  unreadWeights(): string[] {
    return [...this.weights.keys()].filter((n) => !this.weightNames.has(n));
  }

  /**
   * Shape of an exported weight as the graph uses it, without referencing it in the graph: a linear
   * weight's [in, out], also when it is stored transposed or as int8 blocks.
   */
  weightDims(name: string): number[] {
    const q = this.weights.get(quantNames(name).blob)?.quant;
    if (q && !this.weights.has(name)) return [q.K, q.N];
    const w = this.weights.get(name);
    if (!w) throw new Error(`weight contract: the graph needs the shape of '${name}', but the architecture did not export it`);
    return w.transposed ? [...w.dims].reverse() : w.dims;
  }

  /** The weight was exported as int8 blocks (--quantize int8). */
  isQuantized(name: string): boolean {
    return this.weights.has(quantNames(name).blob);
  }

  /**
   * x [..., K] times an int8 weight (quantize.ts) with N outputs: com.microsoft MatMulNBits, whose
   * product uses the dequantized weight ((q − zero) · scale) and, at accuracy level 4, int8
   * activations (ONNX Runtime's fastest CPU kernel for it).
   */
  quantizedMatMul(x: string, name: string, nodeName: string): string {
    const n = quantNames(name);
    const q = this.weights.get(n.blob)!.quant!;
    this.usesMicrosoftOps = true;
    return this.op('MatMulNBits', [x, this.weight(n.blob), this.weight(n.scales), this.weight(n.zeros)], nodeName, { K: q.K, N: q.N, bits: q.bits, block_size: q.blockSize, accuracy_level: QUANT_ACCURACY_LEVEL }, 1, 'com.microsoft')[0];
  }

  /** A uint8 constant stored inline (tests of the int8 kernels). */
  constU8(values: Uint8Array, dims: number[]): string {
    return this.constant(DT.UINT8, values, dims, 'u');
  }

  /** A small constant tensor stored inline; identical constants are shared. */
  constF(values: number[] | Float32Array, dims?: number[]): string {
    const arr = values instanceof Float32Array ? values : Float32Array.from(values);
    return this.constant(DT.FLOAT, new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength), dims ?? [arr.length], 'f');
  }

  constI(values: number[], dims?: number[]): string {
    const arr = BigInt64Array.from(values.map((v) => BigInt(v)));
    return this.constant(DT.INT64, new Uint8Array(arr.buffer), dims ?? [arr.length], 'i');
  }

  /** Scalar constants (0-d). */
  scalarF(v: number): string {
    return this.constF([v], []);
  }

  scalarI(v: number): string {
    return this.constI([v], []);
  }

  private constant(dataType: number, raw: Uint8Array, dims: number[], tag: string): string {
    const key = `${dataType}|${dims.join(',')}|${Buffer.from(raw).toString('base64')}`;
    const hit = this.constCache.get(key);
    if (hit) return hit;
    const name = this.unique(`/const/${tag}${this.constCache.size}`);
    this.initializers.push({ name, dims, dataType, rawData: new Uint8Array(raw) });
    this.constCache.set(key, name);
    return name;
  }

  private unique(name: string): string {
    let n = name;
    let i = 1;
    while (this.usedNames.has(n)) n = `${name}_${i++}`;
    this.usedNames.add(n);
    return n;
  }

  /** Add a node; returns its output names (`{name}/output_{i}`). */
  op(opType: string, inputs: string[], name: string, attrs: Record<string, AttrValue> = {}, nOut = 1, domain = ''): string[] {
    const nodeName = this.unique(name.endsWith(opType) ? name : `${name}/${opType}`);
    const outputs = Array.from({ length: nOut }, (_, i) => `${nodeName}/output_${i}`);
    this.nodes.push({
      opType,
      name: nodeName,
      domain,
      input: inputs,
      output: outputs,
      attribute: Object.entries(attrs).map(([k, v]) => makeAttr(k, v)),
    });
    return outputs;
  }

  /** One-output op. */
  op1(opType: string, inputs: string[], name: string, attrs: Record<string, AttrValue> = {}): string {
    return this.op(opType, inputs, name, attrs)[0];
  }

  // Small conveniences used everywhere in the decoder.
  add(a: string, b: string, name: string): string { return this.op1('Add', [a, b], name); }
  sub(a: string, b: string, name: string): string { return this.op1('Sub', [a, b], name); }
  mul(a: string, b: string, name: string): string { return this.op1('Mul', [a, b], name); }
  div(a: string, b: string, name: string): string { return this.op1('Div', [a, b], name); }
  matmul(a: string, b: string, name: string): string { return this.op1('MatMul', [a, b], name); }
  reshape(x: string, shape: number[], name: string): string {
    return this.op1('Reshape', [x, this.constI(shape)], name);
  }
  transpose(x: string, perm: number[], name: string): string {
    return this.op1('Transpose', [x], name, { perm });
  }
  unsqueeze(x: string, axes: number[], name: string): string {
    return this.op1('Unsqueeze', [x, this.constI(axes)], name);
  }
  squeeze(x: string, axes: number[], name: string): string {
    return this.op1('Squeeze', [x, this.constI(axes)], name);
  }
  concat(xs: string[], axis: number, name: string): string {
    return this.op1('Concat', xs, name, { axis });
  }
  slice(x: string, starts: number[], ends: number[], axes: number[], name: string): string {
    return this.op1('Slice', [x, this.constI(starts), this.constI(ends), this.constI(axes)], name);
  }
  cast(x: string, to: ElemType, name: string): string {
    return this.op1('Cast', [x], name, { to });
  }
  reduce(op: string, x: string, axes: number[], name: string, keepdims = 0): string {
    return this.op1(op, [x, this.constI(axes)], name, { keepdims });
  }

  /**
   * Linear layer with an exported [in, out] weight — stored so, or transposed ([out, in], read in
   * place from a checkpoint: com.microsoft FusedMatMul with transB, whose CPU kernel packs it as
   * MatMul packs the other) or as int8 blocks — and, when named, an exported bias.
   */
  linear(x: string, weight: string, bias: string | undefined, name: string): string {
    let y: string;
    if (this.isQuantized(weight)) y = this.quantizedMatMul(x, weight, `${name}/MatMulNBits`);
    else if (this.weights.get(weight)?.transposed) {
      this.usesMicrosoftOps = true;
      y = this.op('FusedMatMul', [x, this.weight(weight, x)], `${name}/FusedMatMul`, { transB: 1 }, 1, 'com.microsoft')[0];
    } else y = this.matmul(x, this.weight(weight, x), `${name}/MatMul`);
    return bias ? this.add(y, this.weight(bias), `${name}/Add`) : y;
  }

  /**
   * Give a node's output a new name (e.g. a graph output's), before anything reads it: the graph
   * then returns that tensor itself instead of an Identity copy.
   */
  rename(tensor: string, name: string): string {
    const node = this.nodes.find((n) => n.output?.includes(tensor));
    if (!node) throw new Error(`graph builder: no node produces '${tensor}'`);
    if (this.nodes.some((n) => n.input?.includes(tensor))) throw new Error(`graph builder: '${tensor}' is already read, cannot rename it`);
    node.output = node.output!.map((o) => (o === tensor ? name : o));
    this.usedNames.add(name);
    return name;
  }

  toModel(opset = 20): onnxProto.onnx.IModelProto {
    return {
      irVersion: 8,
      producerName: 'entropylens',
      opsetImport: [{ domain: '', version: opset }, ...(this.usesMicrosoftOps ? [{ domain: 'com.microsoft', version: 1 }] : [])],
      graph: {
        name: 'entropylens',
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs.map(valueInfo),
        output: this.outputs.map(valueInfo),
      },
    };
  }

  encode(opset = 20): Uint8Array {
    return onnx.ModelProto.encode(onnx.ModelProto.create(this.toModel(opset))).finish();
  }
}

function valueInfo(v: ValueInfo): onnxProto.onnx.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: v.elemType,
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function makeAttr(name: string, v: AttrValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') {
    return Number.isInteger(v) ? { name, type: T.INT, i: v } : { name, type: T.FLOAT, f: v };
  }
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if ('float' in v) return { name, type: T.FLOAT, f: v.float };
  if ('floats' in v) return { name, type: T.FLOATS, floats: v.floats };
  return { name, type: T.TENSOR, t: v.tensor };
}
