// A function URL in RESPONSE_STREAM mode on loopback: each HTTP request becomes the payload-2.0
// event a function URL sends, runs in the function's sandbox (helpers/local-lambda.ts), and the
// answer is read as the URL reads it: a JSON prelude (status, headers, cookies) and 8 NUL bytes,
// then the body, passed on as it arrives.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { requestToEvent } from "../../../runtime/lambda/event.ts";
import type { LocalLambda } from "./local-lambda.ts";

const PRELUDE_TYPE = "application/vnd.awslambda.http-integration-response";
const SEPARATOR = Buffer.alloc(8);

function toRequest(req: IncomingMessage, base: string): Request {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(", ") : v);
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  const init: RequestInit & { duplex?: "half" } = { method: req.method, headers, ...(hasBody ? { body: Readable.toWeb(req) as ReadableStream, duplex: "half" } : {}) };
  return new Request(new URL(req.url ?? "/", base), init);
}

export async function startFunctionUrl(lambda: LocalLambda, functionName: string, log?: (line: string) => void) {
  const server = createServer(async (req, res) => {
    try {
      const event = await requestToEvent(toRequest(req, `http://${req.headers.host ?? "localhost"}`));
      log?.(`${functionName} ${req.method} ${req.url}\n`);
      const inv = await lambda.run(functionName, null, event);
      if (!inv) return void res.writeHead(404).end("no such function");
      const framed = String(inv.headers["content-type"] ?? "") === PRELUDE_TYPE;
      let head: Buffer | null = framed ? Buffer.alloc(0) : null;
      let failed = false;
      for await (const e of inv.events) {
        if (e.InvokeComplete?.ErrorCode) failed = true;
        const chunk = e.PayloadChunk?.Payload;
        if (!chunk) continue;
        if (head === null) {
          if (!res.headersSent) res.writeHead(200, { "content-type": String(inv.headers["content-type"] ?? "application/octet-stream") });
          res.write(chunk);
          continue;
        }
        head = Buffer.concat([head, chunk]);
        const at = head.indexOf(SEPARATOR);
        if (at < 0) continue;
        const prelude = JSON.parse(head.subarray(0, at).toString("utf8")) as { statusCode?: number; headers?: Record<string, string>; cookies?: string[] };
        res.writeHead(prelude.statusCode ?? 200, { ...prelude.headers, ...(prelude.cookies?.length ? { "set-cookie": prelude.cookies } : {}) });
        const rest = head.subarray(at + 8);
        head = null;
        if (rest.length) res.write(rest);
      }
      // an error before the prelude is a 502 from the URL; after it, the stream just ends
      if (!res.headersSent && !failed && !framed) res.writeHead(200, { "content-type": String(inv.headers["content-type"] ?? "application/octet-stream") }).end();
      else if (!res.headersSent) res.writeHead(502, { "content-type": "application/json" }).end(JSON.stringify({ message: failed ? "Internal Server Error" : "no response" }));
      else res.end();
    } catch (e) {
      if (!res.headersSent) res.writeHead(502).end(String((e as Error).message));
      else res.destroy();
    }
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
