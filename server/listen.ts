import { createAdaptorServer } from "@hono/node-server";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Listening {
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Serves a Web `fetch` handler on loopback (or `hostname`); port 0 picks a free port. */
export async function listen(fetch: (req: Request) => Response | Promise<Response>, port: number, hostname = "127.0.0.1"): Promise<Listening> {
  const server = createAdaptorServer({ fetch }) as Server;
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
