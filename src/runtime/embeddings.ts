/** Token-embedding rows read from the file that holds them (checkpoint or weight cache) for the graph's inputs_embeds. */
import fs from 'node:fs';
import { isHalfWeight, type ExternalWeight } from '../graph/external.js';
import { bf16BitsToF32Bits, f16BitsToF32Bits } from '../models/safetensors.js';
import { UserError } from '../util/errors.js';

/**
 * Token-embedding rows read straight from the file that holds them (the checkpoint's, or the weight
 * cache's). The graph takes `inputs_embeds`, so ONNX Runtime never holds the embedding matrix for a
 * Gather: for a tied model that is one vocabulary × width matrix less in memory (the unembedding
 * keeps its own, packed copy).
 */
export class EmbeddingReader {
  private readonly fd: number;
  private readonly width: number;
  private readonly rowBytes: number;
  /** Rows stored in 16 bits (LoadOptions.weightDtype 'checkpoint'), widened to float32 here. */
  private readonly half: boolean;

  constructor(
    private readonly file: string,
    private readonly weight: ExternalWeight,
  ) {
    this.fd = fs.openSync(file, 'r');
    this.width = weight.dims[1];
    this.half = isHalfWeight(weight);
    this.rowBytes = this.width * (this.half ? 2 : 4);
  }

  /** Rows of the embedding matrix: token ids 0 … rows − 1. */
  get rows(): number {
    return this.weight.dims[0];
  }

  get dim(): number {
    return this.width;
  }

  /**
   * [ids.length, width] rows, in order, each read from the file (the OS keeps its pages cached).
   * An id past the last row would read other weights (or past the end of the file) as an embedding:
   * that is a tokenizer that does not belong to the model, never a damaged cache, and is said so.
   */
  lookup(ids: ArrayLike<number>): Float32Array {
    const rows = this.weight.dims[0];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!Number.isInteger(id) || id < 0 || id >= rows) {
        throw new UserError(
          `token id ${id} is outside the model's embedding matrix (${rows} rows): the tokenizer produces ids the model does not have — use the tokenizer.json saved with this checkpoint (its vocabulary must not exceed config.json's vocab_size).`,
        );
      }
    }
    const out = new Float32Array(ids.length * this.width);
    const raw = this.half ? new Uint16Array(ids.length * this.width) : out;
    const bytes = new Uint8Array(raw.buffer);
    for (let i = 0; i < ids.length; i++) {
      const at = i * this.rowBytes;
      let done = 0;
      while (done < this.rowBytes) {
        const n = fs.readSync(this.fd, bytes, at + done, this.rowBytes - done, this.weight.offset + ids[i] * this.rowBytes + done);
        if (n === 0) throw new UserError(`embedding row ${ids[i]}: ${this.file} ended early (it was truncated); restore it (a checkpoint file) or delete the cache folder (the cache's) and retry`);
        done += n;
      }
    }
    if (raw instanceof Uint16Array) {
      const widen = this.weight.dtype === 'bfloat16' ? bf16BitsToF32Bits : f16BitsToF32Bits;
      widen(raw, new Uint32Array(out.buffer));
    }
    return out;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
