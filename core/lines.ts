import type { Readable } from "node:stream";

/** Longest line kept as one; longer output is cut so one runaway write cannot hold memory. */
const MAX_LINE = 16 * 1024;

/**
 * Splits a child process's output stream into lines and hands each to `onLine`. A partial last
 * line is flushed when the stream ends, so the final words of a crashing process are not lost.
 */
export function readLines(stream: Readable | NodeJS.ReadableStream, onLine: (line: string) => void): void {
  stream.setEncoding("utf8");
  let buf = "";
  stream.on("data", (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, "");
      buf = buf.slice(nl + 1);
      onLine(line);
    }
    if (buf.length > MAX_LINE) {
      onLine(buf.slice(0, MAX_LINE));
      buf = "";
    }
  });
  stream.on("end", () => {
    if (buf) onLine(buf);
    buf = "";
  });
}
