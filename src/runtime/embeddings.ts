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

  /** [ids.length, width] rows, in order, each read from the file (the OS keeps its pages cached). */
  lookup(ids: ArrayLike<number>): Float32Array {
    const out = new Float32Array(ids.length * this.width);
    const bytes = new Uint8Array(out.buffer);
    for (let i = 0; i < ids.length; i++) {
      const at = i * this.rowBytes;
      let done = 0;
      while (done < this.rowBytes) {
        const n = fs.readSync(this.fd, bytes, at + done, this.rowBytes - done, this.weight.offset + ids[i] * this.rowBytes + done);
        if (n === 0) throw new Error(`embedding row ${ids[i]}: the weight cache file ended early; delete the cache folder and retry`);
        done += n;
      }
    }
    return out;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
