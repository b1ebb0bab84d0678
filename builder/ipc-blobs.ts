import type { BlobStore } from "../core/blobs/port.ts";
import type { ParentMessage, WorkerMessage } from "./worker-protocol.ts";

/**
 * The blob store of a sandboxed build process: each read and write is a request to the platform,
 * which allows only what this build may do (see blob-gate.ts). Nothing else of the store exists.
 */
export function ipcBlobStore(send: (msg: WorkerMessage) => void): { blobs: BlobStore; onReply: (msg: ParentMessage) => void } {
  let seq = 0;
  const pending = new Map<number, { resolve: (v: Buffer | null) => void; reject: (e: Error) => void }>();
  const request = (msg: { op: "put"; key: string; bytes: Uint8Array } | { op: "get"; key: string }) =>
    new Promise<Buffer | null>((resolve, reject) => {
      const id = ++seq;
      pending.set(id, { resolve, reject });
      send({ type: "blob", id, ...msg });
    });
  const unavailable = (what: string) => () => Promise.reject(new Error(`${what} is not available to a build`));
  const blobs: BlobStore = {
    async put(key, body) {
      const bytes = typeof body === "string" ? Buffer.from(body) : body;
      await request({ op: "put", key, bytes });
    },
    putStream: unavailable("putStream"),
    get: (key) => request({ op: "get", key }),
    getStream: unavailable("getStream"),
    head: unavailable("head"),
    delete: unavailable("delete"),
    list: unavailable("list"),
  };
  return {
    blobs,
    onReply(msg) {
      if (msg.type !== "blob-reply") return;
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.bytes ? Buffer.from(msg.bytes.buffer, msg.bytes.byteOffset, msg.bytes.byteLength) : null);
      else p.reject(new Error(msg.error));
    },
  };
}
