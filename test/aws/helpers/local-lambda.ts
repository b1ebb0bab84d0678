// Lambda's InvokeWithResponseStream served on loopback for functions unpacked on this machine:
// POST /2021-11-15/functions/<name>/response-streaming-invocations?Qualifier=<alias> runs the
// event in that function's sandbox (runtime client + Runtime API, helpers/runtime-api.ts) and
// answers as Lambda does, in the AWS event stream encoding: one PayloadChunk message per chunk the
// function wrote, as it is written, then InvokeComplete. The real SDK client decodes it, so the
// caller's side is the code that runs on AWS.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { crc32 } from "node:zlib";
import { startRuntimeApi, startSandbox } from "./runtime-api.ts";

/** One event stream message: total and headers lengths, prelude CRC, string headers, payload, CRC. */
export function eventMessage(headers: Record<string, string>, payload: Uint8Array): Buffer {
  const hs = Buffer.concat(
    Object.entries(headers).map(([k, v]) => {
      const name = Buffer.from(k);
      const value = Buffer.from(v);
      const h = Buffer.alloc(1 + name.length + 1 + 2 + value.length);
      h.writeUInt8(name.length, 0);
      name.copy(h, 1);
      h.writeUInt8(7, 1 + name.length); // string
      h.writeUInt16BE(value.length, 2 + name.length);
      value.copy(h, 4 + name.length);
      return h;
    }),
  );
  const total = 12 + hs.length + payload.length + 4;
  const prelude = Buffer.alloc(12);
  prelude.writeUInt32BE(total, 0);
  prelude.writeUInt32BE(hs.length, 4);
  prelude.writeUInt32BE(crc32(prelude.subarray(0, 8)), 8);
  const body = Buffer.concat([prelude, hs, Buffer.from(payload)]);
  const end = Buffer.alloc(4);
  end.writeUInt32BE(crc32(body), 0);
  return Buffer.concat([body, end]);
}

const event = (type: string, contentType: string, payload: Uint8Array) => eventMessage({ ":event-type": type, ":message-type": "event", ":content-type": contentType }, payload);

export async function startLocalLambda() {
  const functions = new Map<string, { root: string; env: Record<string, string> }>();
  const running = new Map<string, Promise<{ api: Awaited<ReturnType<typeof startRuntimeApi>>; kill: () => void }>>();
  const calls: { name: string; qualifier: string | null; event: any }[] = [];
  /** every control-plane request, `METHOD path`: anything but invoke answers ResourceNotFound */
  const requests: string[] = [];

  const sandbox = (key: string) => {
    let s = running.get(key);
    if (!s) {
      const fn = functions.get(key)!;
      s = startRuntimeApi().then((api) => {
        const child = startSandbox(fn.root, api.address, fn.env);
        return { api, kill: () => child.kill("SIGKILL") };
      });
      running.set(key, s);
    }
    return s;
  };

  const server = createServer(async (req: IncomingMessage, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    requests.push(`${req.method} ${url.pathname}`);
    const m = /^\/\d{4}-\d{2}-\d{2}\/functions\/([^/]+)\/response-streaming-invocations$/.exec(url.pathname);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const name = decodeURIComponent(m?.[1] ?? "");
    const key = `${name}:${url.searchParams.get("Qualifier")}`;
    if (!m || !functions.has(key)) {
      res.writeHead(404, { "content-type": "application/json", "x-amzn-errortype": "ResourceNotFoundException" });
      return void res.end(JSON.stringify({ Type: "User", message: `Function not found: ${key}` }));
    }
    const payload = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    calls.push({ name, qualifier: url.searchParams.get("Qualifier"), event: payload });
    const inv = await (await sandbox(key)).api.invoke(payload);
    res.writeHead(200, { "content-type": String(inv.headers["content-type"] ?? "application/octet-stream"), "x-amz-executed-version": "1" });
    for await (const e of inv.events) {
      if (e.PayloadChunk?.Payload) res.write(event("PayloadChunk", "application/octet-stream", e.PayloadChunk.Payload));
      if (e.InvokeComplete) res.write(event("InvokeComplete", "application/json", Buffer.from(JSON.stringify(e.InvokeComplete))));
    }
    res.end();
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    requests,
    /** serves `name:qualifier` from an unpacked zip */
    add(name: string, qualifier: string, root: string, env: Record<string, string> = {}) {
      functions.set(`${name}:${qualifier}`, { root, env });
    },
    async close() {
      for (const s of running.values()) {
        const { api, kill } = await s;
        kill();
        await api.close();
      }
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
