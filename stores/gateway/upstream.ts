import { Agent, request, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from "node:http";
import { pipeline } from "node:stream";

/** Hop-by-hop headers: they describe one connection and are never passed on. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "expect"]);

export const withoutHopByHop = (headers: IncomingHttpHeaders): OutgoingHttpHeaders => {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
};

/** An emulator behind its Unix socket, reached with kept-alive connections. */
export interface Upstream {
  /**
   * Sends one request; `body` is a buffer or a stream that is piped (and destroyed with the
   * exchange when either side fails). Resolves with the emulator's response, not yet read.
   */
  send(opts: { method: string; path: string; headers: OutgoingHttpHeaders; body?: Buffer | NodeJS.ReadableStream }): Promise<IncomingMessage>;
  close(): void;
}

export function unixUpstream(socketPath: string): Upstream {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  return {
    send({ method, path, headers, body }) {
      return new Promise((resolve, reject) => {
        const up = request({ socketPath, agent, method, path, headers }, resolve);
        up.once("error", reject);
        if (!body) up.end();
        else if (Buffer.isBuffer(body)) up.end(body);
        else pipeline(body, up, (e) => e && up.destroy(e));
      });
    },
    close: () => agent.destroy(),
  };
}

/** Streams the emulator's answer to the client, as is (less hop-by-hop headers). */
export function relay(from: IncomingMessage, to: ServerResponse): void {
  to.writeHead(from.statusCode ?? 502, withoutHopByHop(from.headers));
  pipeline(from, to, () => {});
}

/** Reads a body up to `max` bytes; null when it is larger (the rest is not read). */
export function readBody(req: IncomingMessage, max: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > max) return resolve(null);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.removeAllListeners("data");
        req.pause();
        resolve(null);
        return;
      }
      chunks.push(c);
    });
    req.once("end", () => resolve(Buffer.concat(chunks)));
    req.once("error", reject);
  });
}
