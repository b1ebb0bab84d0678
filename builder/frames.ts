import type { Duplex } from "node:stream";
import { deserialize, serialize } from "node:v8";

/**
 * Messages between the platform and a sandboxed build process: length-prefixed v8-serialized
 * frames over a plain socket pair. Node's own IPC would do, but it reads a whole message into the
 * platform's memory whatever its size, and the build process runs tenant code's neighbour. Here a
 * frame announces its size first: one over `maxBytes` ends the channel before its body is read,
 * and the next frame is read only once the previous one was handled, so a flood waits in the
 * sender's socket, not in the platform.
 */
export interface FrameChannel<Out> {
  send(msg: Out): Promise<void>;
  close(): void;
}

export function frameChannel<In, Out>(
  sock: Duplex,
  opts: { maxBytes: number; onMessage: (msg: In) => void | Promise<void>; onError?: (err: Error) => void },
): FrameChannel<Out> {
  let chunks: Buffer[] = [];
  let buffered = 0;
  let busy = false;
  let failed = false;

  const fail = (err: Error) => {
    if (failed) return;
    failed = true;
    sock.destroy();
    opts.onError?.(err);
  };

  const take = (n: number): Buffer => {
    const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    chunks = rest.length ? [rest] : [];
    buffered = rest.length;
    return out;
  };

  const pump = async () => {
    if (busy) return;
    busy = true;
    try {
      while (!failed && buffered >= 4) {
        const head = chunks[0]!.length >= 4 ? chunks[0]! : Buffer.concat(chunks);
        const size = head.readUInt32BE(0);
        if (size > opts.maxBytes) return fail(new Error(`a message of ${size} bytes is over the ${opts.maxBytes}-byte limit`));
        if (buffered < 4 + size) break;
        const frame = take(4 + size).subarray(4);
        let msg: In;
        try {
          msg = deserialize(frame) as In;
        } catch {
          return fail(new Error("a message could not be read"));
        }
        sock.pause();
        await opts.onMessage(msg);
        if (!failed) sock.resume();
      }
    } finally {
      busy = false;
    }
  };

  sock.on("data", (chunk: Buffer) => {
    chunks.push(chunk);
    buffered += chunk.length;
    // never hold more than one frame's worth, however fast the other side writes
    if (buffered > opts.maxBytes + 4 + 65536 && !busy) sock.pause();
    void pump();
  });
  sock.on("error", () => {});

  return {
    send(msg) {
      return new Promise<void>((resolve) => {
        if (failed || sock.destroyed || !sock.writable) return resolve();
        const body = serialize(msg);
        const head = Buffer.alloc(4);
        head.writeUInt32BE(body.length, 0);
        sock.write(head);
        sock.write(body, () => resolve());
      });
    },
    close() {
      sock.end();
    },
  };
}
