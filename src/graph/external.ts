/**
 * A weight kept outside the ONNX protobuf (external data): where its bytes are. A module of its own,
 * free of onnx-proto, because the runtime's public types mention it.
 */
export interface ExternalWeight {
  name: string;
  dims: number[];
  offset: number;
  length: number;
  /**
   * Element type in the file (default float32); uint8 for the blocks and zero points of int8 weights;
   * bfloat16 or float16 for a weight kept at its checkpoint's 16-bit type (LoadOptions.weightDtype),
   * cast to float32 in the graph where it is used.
   */
  dtype?: 'float32' | 'uint8' | 'bfloat16' | 'float16';
  /**
   * The file holding it, when not the weight cache's own weights.bin: a checkpoint file (its real
   * path), read in place because the weight is, byte for byte, a tensor of it (or rows of one).
   */
  file?: string;
  /**
   * Stored as the transpose of the graph's [in, out] weight (a PyTorch Linear's [out, in]): `dims`
   * are the stored ones, and the graph multiplies with transB.
   */
  transposed?: boolean;
  /** On an int8 weight's blocks: the logical K (inputs) and N (outputs) of the product. */
  quant?: { K: number; N: number; bits: number; blockSize: number };
}

/** A weight kept in 16 bits (bfloat16 or float16), read as float32 through a Cast or a widening copy. */
export function isHalfWeight(w: ExternalWeight): boolean {
  return w.dtype === 'bfloat16' || w.dtype === 'float16';
}

/**
 * 'checkpoint': matrices whose values are all exactly bfloat16 (or float16) numbers — every weight
 * of a bf16 (f16) checkpoint, also after transposing or splitting — are kept in 16 bits and cast to
 * float32 in the graph where they are used; the same numbers at half the memory (LensModel.load's
 * default). 'float32' converts every weight.
 */
export type WeightDtype = 'float32' | 'checkpoint';
