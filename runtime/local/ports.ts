import { createConnection, createServer } from "node:net";

/** A port that was free a moment ago, for a server app to listen on. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function tryConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host, port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/**
 * Polls until something accepts connections on `port`, on IPv4 or IPv6 loopback (apps that listen
 * on `localhost` may bind only `::1`). Resolves with the host that answered; gives up when
 * `gaveUp()` says the process is gone. The caller races this against its own start timeout.
 */
export async function waitForPort(port: number, gaveUp: () => boolean): Promise<string> {
  let delay = 5;
  while (!gaveUp()) {
    if (await tryConnect("127.0.0.1", port)) return "127.0.0.1";
    if (await tryConnect("::1", port)) return "::1";
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 50);
  }
  return "127.0.0.1";
}
