import { createRequire } from "node:module";
import { mkdir } from "node:fs/promises";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server } from "node:http";

const require = createRequire(import.meta.url);

export interface S3rverService {
  /** `http://127.0.0.1:<port>` over TCP; `http://localhost` (a placeholder host) on a socket */
  endpoint: string;
  /** set when listening on a Unix socket: connect here (see `unixSocketAwsConfig`) */
  socket?: string;
  end(): Promise<void>;
}

interface S3rverApp {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
  configureBuckets(): Promise<void>;
  /** s3rver's own listen: with a callback last it returns the http.Server at once */
  listen(...args: unknown[]): Server;
  httpServer?: Server;
}

/**
 * Starts s3rver, persisting under `directory` (a temp folder when omitted). With `socket` it
 * listens on that Unix socket path and on no TCP port; otherwise on loopback TCP.
 *
 * s3rver's `run()` only takes a port and an address, so for a socket its own `listen` is called
 * with the path; passed a callback, that returns the http.Server right away, so a failed listen
 * is caught here instead of surfacing as an uncaught error. `close()` then works as after `run()`.
 */
export async function startS3rver(opts: { directory?: string; port?: number; buckets?: string[]; socket?: string } = {}): Promise<S3rverService> {
  const S3rver = require("s3rver") as new (o: Record<string, unknown>) => S3rverApp;
  const directory = opts.directory ?? mkdtempSync(join(tmpdir(), "ferry-s3rver-"));
  await mkdir(directory, { recursive: true });
  const server = new S3rver({
    address: "127.0.0.1",
    port: opts.port ?? 0,
    silent: true,
    directory,
    configureBuckets: (opts.buckets ?? []).map((name) => ({ name, configs: [] })),
  });
  const end = () => {
    const closing = server.close();
    (server.httpServer as unknown as { closeAllConnections?: () => void } | undefined)?.closeAllConnections?.();
    return closing;
  };
  if (!opts.socket) {
    const { port } = await server.run();
    return { endpoint: `http://127.0.0.1:${port}`, end };
  }
  await server.configureBuckets();
  const socket = opts.socket;
  await new Promise<void>((resolve, reject) => {
    const http = server.listen(socket, () => {
      http.off("error", reject);
      resolve();
    });
    http.once("error", reject);
    server.httpServer = http;
  });
  return { endpoint: "http://localhost", socket, end };
}
