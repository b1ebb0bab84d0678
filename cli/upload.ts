import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { Readable } from "node:stream";
import type { Client } from "./client.ts";
import type { LocalFile } from "./files.ts";
import { CliError, type Io } from "./io.ts";
import { progressBar } from "./progress.ts";

/** Files smaller than this travel in batches (POST /v1/files/batch); larger ones one a request. */
export const BATCH_FILE_MAX = 256 * 1024;
/** A batch closes at this many bytes or files, so a big upload still spreads over the lanes. */
const BATCH_BYTES = 4 * 1024 * 1024;
const BATCH_FILES = 500;
/** requests in flight at once, over the client's keep-alive connections */
const LANES = 4;

type Job = { batch: LocalFile[]; bytes: number } | { file: LocalFile; bytes: number };

/** Large files first, so the lanes finish together; then the small ones in batches. */
export function planUploads(files: LocalFile[]): Job[] {
  const jobs: Job[] = files.filter((f) => f.size >= BATCH_FILE_MAX).sort((a, b) => b.size - a.size).map((file) => ({ file, bytes: file.size }));
  let batch: LocalFile[] = [];
  let bytes = 0;
  for (const f of files) {
    if (f.size >= BATCH_FILE_MAX) continue;
    if (batch.length && (bytes + f.size > BATCH_BYTES || batch.length >= BATCH_FILES)) {
      jobs.push({ batch, bytes });
      batch = [];
      bytes = 0;
    }
    batch.push(f);
    bytes += f.size;
  }
  if (batch.length) jobs.push({ batch, bytes });
  return jobs;
}

const frameHeader = (f: LocalFile) => Buffer.from(`${f.sha} ${f.size}\n`, "latin1");

/** A batch body (`<sha1> <size>\n<bytes>` per file): one buffer when hashing kept every file's
 * bytes (one write, not two per file), else read file by file as the request is sent. */
function batchBody(files: LocalFile[]): { body: Buffer | Readable; length: number } {
  if (files.every((f) => f.bytes)) {
    const body = Buffer.concat(files.flatMap((f) => [frameHeader(f), f.bytes!]));
    return { body, length: body.length };
  }
  async function* frames() {
    for (const f of files) {
      const bytes = f.bytes ?? (await readFile(f.abs));
      // the size is in the frame already: a file that changed since it was hashed would shift every
      // frame after it
      if (bytes.length !== f.size) throw new CliError(`${f.file} changed while it was being deployed (${f.size} bytes when hashed, ${bytes.length} now); run ferry again`, "file_changed");
      yield frameHeader(f);
      yield bytes;
    }
  }
  const length = files.reduce((n, f) => n + frameHeader(f).length + f.size, 0);
  return { body: Readable.from(frames(), { objectMode: false }), length };
}

/** Uploads the files the server asked for (`missing` shas); returns the bytes sent. */
export async function uploadMissing(io: Io, client: Client, files: LocalFile[], missing: string[]) {
  const bySha = new Map(files.map((f) => [f.sha, f]));
  const todo = [...new Set(missing)].map((sha) => bySha.get(sha)).filter((f): f is LocalFile => !!f);
  const total = todo.reduce((n, f) => n + f.size, 0);
  const bar = progressBar(io, `Uploading ${todo.length} file${todo.length === 1 ? "" : "s"}`, total);
  const jobs = planUploads(todo);
  let sent = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(LANES, jobs.length) }, async () => {
      while (next < jobs.length) {
        const job = jobs[next++]!;
        if ("file" in job) {
          const f = job.file;
          const res = await client.request("POST", "/v1/files", { body: createReadStream(f.abs), headers: { "x-ferry-digest": f.sha, "content-type": "application/octet-stream", "content-length": String(f.size) } });
          await res.text();
        } else {
          const { body, length } = batchBody(job.batch);
          const res = await client.request("POST", "/v1/files/batch", { body, headers: { "content-type": "application/x-ferry-batch", "content-length": String(length) } });
          await res.text();
        }
        sent += job.bytes;
        bar.update(sent);
      }
    }),
  );
  bar.done();
  return total;
}
