import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";

const require = createRequire(import.meta.url);

export interface DynaliteService {
  /** `http://127.0.0.1:<port>` over TCP; `http://localhost` (a placeholder host) on a socket */
  endpoint: string;
  /** set when listening on a Unix socket: connect here (see `unixSocketAwsConfig`) */
  socket?: string;
  end(): Promise<void>;
}

/**
 * Starts dynalite. With `path` the data is persisted on disk (LevelDB), otherwise in memory.
 * With `socket` it listens on that Unix socket path and on no TCP port; otherwise on loopback
 * TCP (`port`, 0 or omitted = any free one). Tables are created instantly so tests and first
 * start do not wait.
 */
export async function startDynalite(opts: { path?: string; port?: number; socket?: string } = {}): Promise<DynaliteService> {
  const dynalite = require("dynalite") as (o: Record<string, unknown>) => Server;
  const server = dynalite({ path: opts.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    const ready = () => {
      server.off("error", reject);
      resolve();
    };
    if (opts.socket) server.listen(opts.socket, ready);
    else server.listen(opts.port ?? 0, "127.0.0.1", ready);
  });
  const end = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      // keep-alive sockets from SDK clients would hold close() open
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    });
  if (opts.socket) return { endpoint: "http://localhost", socket: opts.socket, end };
  const { port } = server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}`, end };
}

/** Static credentials for the local emulators (s3rver accepts only these); they authorize nothing real. */
export const localAwsConfig = (endpoint: string) => ({
  endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
});
