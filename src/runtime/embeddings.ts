import fs from 'node:fs';
import type { ExternalWeight } from '../graph/builder.js';

/**
 * Token-embedding rows read straight from the exported weights file. The graph takes
 * `inputs_embeds`, so ONNX Runtime never holds the embedding matrix for a Gather: for a tied model
 * that is one vocabulary × width matrix less in memory (the unembedding keeps its own, packed copy).
 */
export class EmbeddingReader {
  private readonly fd: number;
  private readonly width: number;
  private readonly rowBytes: number;
  private readonly cache = new Map<number, Float32Array>();

  constructor(
    file: string,
    private readonly weight: ExternalWeight,
  ) {
    this.fd = fs.openSync(file, 'r');
    this.width = weight.dims[1];
    this.rowBytes = this.width * 4;
  }

  get dim(): number {
    return this.width;
  }

  private row(id: number): Float32Array {
    let r = this.cache.get(id);
    if (!r) {
      r = new Float32Array(this.width);
      const bytes = new Uint8Array(r.buffer);
      let done = 0;
      while (done < this.rowBytes) {
        const n = fs.readSync(this.fd, bytes, done, this.rowBytes - done, this.weight.offset + id * this.rowBytes + done);
        if (n === 0) throw new Error(`embedding row ${id}: the weight cache file ended early; delete the cache folder and retry`);
        done += n;
      }
      // frequent tokens (BOS, padding, common words) repeat across prompts and steps
      if (this.cache.size < 65536) this.cache.set(id, r);
    }
    return r;
  }

  /** [ids.length, width] rows, in order. */
  lookup(ids: ArrayLike<number>): Float32Array {
    const out = new Float32Array(ids.length * this.width);
    for (let i = 0; i < ids.length; i++) out.set(this.row(ids[i]), i * this.width);
    return out;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
