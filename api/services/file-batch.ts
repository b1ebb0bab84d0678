import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { FerryError } from "../../core/errors.ts";
import { blobKeys, type BlobStore } from "../../core/blobs/port.ts";
import { ByteReader, invalidBatch } from "./byte-reader.ts";
import { tooLarge } from "./files.ts";

/**
 * `POST /v1/files/batch`: many files in one request, so a deploy of thousands of small files is
 * not thousands of requests. The body is frames, one per file:
 *
 *     <sha1 as 40 lower-case hex> SP <size in bytes as decimal> LF <size bytes>
 *
 * Each file is checked on its own as the single-file route checks it: hashed as it arrives and
 * stored only when its bytes hash to its digest (a mismatch stores nothing of that file, and the
 * frames after it still count), deduplicated per account, at most the file size limit. A frame
 * that cannot be read (a bad header, a body that ends early) ends the request: the frame
 * boundaries after it are unknown.
 */
export const BATCH_CONTENT_TYPE = "application/x-ferry-batch";

export type BatchResult =
  | { sha: string; size: number; existed: boolean }
  | { sha: string; size: number; error: { code: "digest_mismatch"; message: string; actual: string } };

/** the longest header: 40 hex, a space, 16 digits */
const MAX_HEADER = 57;
const HEADER_RE = /^([0-9a-f]{40}) (0|[1-9][0-9]{0,15})$/;
/** files up to this size are read whole, checked, then looked up and written in the background
 * (one small buffer, no stream machinery per file); larger ones stream to the store */
const BUFFERED_MAX = 256 * 1024;
/** small files looked up and written at once per request: the store's latency per file, not
 * the bytes, is what a batch of small files costs */
const WRITES_IN_FLIGHT = 16;

export async function storeBatch(opts: {
  blobs: BlobStore;
  accountId: string;
  body: ReadableStream<Uint8Array> | null;
  maxFileSize: number;
  maxFiles: number;
}): Promise<BatchResult[]> {
  if (!opts.body) throw invalidBatch("the batch is empty: send at least one `<sha1> <size>\\n<bytes>` frame");
  const reader = opts.body.getReader();
  const bytes = new ByteReader(reader);
  const results: BatchResult[] = [];
  const writes = new Set<Promise<void>>();
  // a failed write (the disk, not the client) fails the request at the next frame or at the end
  const failure: { error?: unknown } = {};
  const stored = new Set<string>();

  try {
    for (let index = 0; !(await bytes.atEnd()); index++) {
      if ("error" in failure) throw failure.error;
      const what = `frame ${index + 1} (at byte ${bytes.position})`;
      if (index >= opts.maxFiles) throw invalidBatch(`${what}: a batch holds at most ${opts.maxFiles} files`);
      const header = await bytes.line(MAX_HEADER, what);
      const m = HEADER_RE.exec(header);
      if (!m) throw invalidBatch(`${what}: the header ${JSON.stringify(header.slice(0, MAX_HEADER))} is not \`<sha1 as 40 lower-case hex> <size>\``);
      const sha = m[1]!;
      const size = Number(m[2]);
      if (size > opts.maxFileSize) throw tooLarge(opts.maxFileSize, { file: sha, frame: index + 1 });
      const key = blobKeys.file(opts.accountId, sha);
      const chunks = bytes.take(size, `${what}, file ${sha}`);

      const hash = createHash("sha1");
      const mismatch = (actual: string): BatchResult => ({ sha, size, error: { code: "digest_mismatch", message: `frame ${index + 1}: the bytes hash to ${actual}, not ${sha}; nothing of this file was stored`, actual } });

      if (size <= BUFFERED_MAX) {
        const parts: Uint8Array[] = [];
        for await (const part of chunks) {
          hash.update(part);
          parts.push(part);
        }
        const actual = hash.digest("hex");
        if (actual !== sha) {
          results.push(mismatch(actual));
          continue;
        }
        // checked: looking it up and writing it overlap reading the next frames
        const result = { sha, size, existed: stored.has(sha) };
        results.push(result);
        if (result.existed) continue;
        stored.add(sha);
        const write: Promise<void> = (async () => {
          if (await opts.blobs.head(key)) result.existed = true;
          else await opts.blobs.put(key, Buffer.concat(parts));
        })().then(
          () => void writes.delete(write),
          (error: unknown) => void ("error" in failure || (failure.error = error)),
        );
        writes.add(write);
        if (writes.size >= WRITES_IN_FLIGHT) await Promise.race(writes);
        continue;
      }
      const known = stored.has(sha) || !!(await opts.blobs.head(key));
      if (known) {
        // a file already stored is still checked, never kept
        for await (const part of chunks) hash.update(part);
        const actual = hash.digest("hex");
        results.push(actual === sha ? { sha, size, existed: true } : mismatch(actual));
        continue;
      }

      // a large file: streamed to the store, which keeps nothing when the stream fails
      const digestMismatch = new FerryError("digest_mismatch", "digest mismatch", 400);
      let actual = "";
      async function* verified(): AsyncGenerator<Uint8Array> {
        for await (const part of chunks) {
          hash.update(part);
          yield part;
        }
        actual = hash.digest("hex");
        if (actual !== sha) throw digestMismatch;
      }
      try {
        await opts.blobs.putStream(key, Readable.from(verified(), { objectMode: false }));
      } catch (e) {
        if (e !== digestMismatch) throw e;
        results.push(mismatch(actual));
        continue;
      }
      stored.add(sha);
      results.push({ sha, size, existed: false });
    }
    if (!results.length) throw invalidBatch("the batch is empty: send at least one `<sha1> <size>\\n<bytes>` frame");
    await Promise.all(writes);
    if ("error" in failure) throw failure.error;
    return results;
  } catch (e) {
    await reader.cancel().catch(() => {});
    // the files already acknowledged in this request are whole; wait for them before answering
    await Promise.allSettled(writes);
    throw e;
  }
}
