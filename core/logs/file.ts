import { EventEmitter } from "node:events";
import { createReadStream } from "node:fs";
import { appendFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { LogEntry, LogStore } from "./port.ts";

/**
 * Runtime logs as one NDJSON file per deployment. Appends are batched (a function printing in a
 * tight loop must not cost a write per line) and flushed every `flushMs` and on close.
 */
export function createFileLogStore(dir: string, flushMs = 200): LogStore {
  const pending = new Map<string, PendingLines>();
  const bus = new EventEmitter();
  bus.setMaxListeners(0);
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  const fileOf = (id: string) => join(dir, `${id.replace(/[^A-Za-z0-9_-]/g, "_")}.ndjson`);

  const flush = () => {
    timer = undefined;
    const batch = [...pending.entries()];
    pending.clear();
    writing = writing.then(async () => {
      await mkdir(dir, { recursive: true });
      for (const [id, lines] of batch) await appendFile(fileOf(id), lines.bytes());
    }).catch((e) => console.error("[logs] write failed:", e));
    return writing;
  };

  return {
    append(entry) {
      let lines = pending.get(entry.deploymentId);
      if (!lines) pending.set(entry.deploymentId, (lines = new PendingLines()));
      lines.add(JSON.stringify(entry));
      bus.emit(entry.deploymentId, entry);
      timer ??= setTimeout(flush, flushMs);
    },
    async query(deploymentId, opts = {}) {
      await flush();
      const out: LogEntry[] = [];
      const stream = createReadStream(fileOf(deploymentId));
      const done = new Promise<void>((resolve) => stream.once("error", () => resolve()).once("close", () => resolve()));
      try {
        for await (const line of createInterface({ input: stream })) {
          if (!line) continue;
          const e = JSON.parse(line) as LogEntry;
          if (opts.since && e.ts < opts.since) continue;
          out.push(e);
        }
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      }
      await done;
      return opts.limit ? out.slice(-opts.limit) : out;
    },
    follow(deploymentId, fn) {
      bus.on(deploymentId, fn);
      return () => bus.off(deploymentId, fn);
    },
    async close() {
      if (timer) clearTimeout(timer);
      await flush();
    },
  };
}

/**
 * Lines waiting for the next flush, kept as bytes outside the JS heap. Kept as strings for up to
 * `flushMs`, thousands of them a second under load would outlive young-generation collections and
 * be copied and promoted, costing more than writing them does.
 */
class PendingLines {
  private buf = Buffer.allocUnsafe(16 * 1024);
  private length = 0;

  add(line: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit, plus the newline
    const room = line.length * 3 + 1;
    if (this.length + room > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + room));
      this.buf.copy(bigger, 0, 0, this.length);
      this.buf = bigger;
    }
    this.length += this.buf.write(line, this.length);
    this.buf[this.length++] = 10;
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}
