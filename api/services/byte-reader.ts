import { FerryError } from "../../core/errors.ts";

const EMPTY = new Uint8Array(0);

/**
 * Pulls a request body apart at exact byte boundaries (a header line, then so many bytes),
 * holding no more than the chunk the stream last delivered. `position` is the offset of the
 * next unread byte, for error messages.
 */
export class ByteReader {
  private chunk: Uint8Array = EMPTY;
  private offset = 0;
  private ended = false;
  position = 0;

  constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>) {}

  private async fill(): Promise<boolean> {
    while (this.offset >= this.chunk.length) {
      if (this.ended) return false;
      const r = await this.reader.read();
      if (r.done) {
        this.ended = true;
        return false;
      }
      this.chunk = r.value;
      this.offset = 0;
    }
    return true;
  }

  /** true when the body has no bytes left */
  async atEnd(): Promise<boolean> {
    return !(await this.fill());
  }

  /** The text before the next `\n` (consumed with it), or an error naming `what` when there is no
   * `\n` within `max` bytes or the body ends first. */
  async line(max: number, what: string): Promise<string> {
    const parts: Uint8Array[] = [];
    let length = 0;
    while (await this.fill()) {
      const nl = this.chunk.indexOf(10, this.offset);
      const end = nl >= 0 ? nl : this.chunk.length;
      length += end - this.offset;
      if (length > max) throw invalidBatch(`${what}: no line end within ${max} bytes`);
      parts.push(this.chunk.subarray(this.offset, end));
      this.position += end - this.offset;
      this.offset = end;
      if (nl >= 0) {
        this.offset++;
        this.position++;
        return Buffer.concat(parts).toString("latin1");
      }
    }
    throw invalidBatch(`${what}: the body ends inside the header`);
  }

  /** Exactly `n` bytes, as the chunks they arrive in; an error naming `what` if the body ends first. */
  async *take(n: number, what: string): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0) {
      if (!(await this.fill())) throw invalidBatch(`${what}: the body ends after ${n - left} of its ${n} bytes`);
      const end = Math.min(this.chunk.length, this.offset + left);
      const part = this.chunk.subarray(this.offset, end);
      left -= part.length;
      this.position += part.length;
      this.offset = end;
      yield part;
    }
  }
}

export const invalidBatch = (message: string) => new FerryError("invalid_batch", message, 400);
