import { createAdaptorServer } from "@hono/node-server";
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Listening {
  port: number;
  url: string;
  close(): Promise<void>;
}

export type Handler = { fetch: (req: Request) => Response | Promise<Response> } | { listener: RequestListener };

/** Serves a Web `fetch` handler (or a Node listener) on loopback (or `hostname`); port 0 picks a
 * free port. */
export async function listen(handler: Handler, port: number, hostname = "127.0.0.1"): Promise<Listening> {
  const server = "listener" in handler ? createServer(handler.listener) : (createAdaptorServer({ fetch: handler.fetch }) as Server);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    port: actual,
    url: `http://${hostname === "0.0.0.0" ? "127.0.0.1" : hostname}:${actual}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      }),
  };
}
