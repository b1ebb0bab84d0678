import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";

const require = createRequire(import.meta.url);

export interface DynaliteService {
  endpoint: string;
  end(): Promise<void>;
}

/**
 * Starts dynalite on loopback. With `path` the data is persisted on disk (LevelDB), otherwise in
 * memory. Tables are created instantly so tests and first start do not wait.
 */
export async function startDynalite(opts: { path?: string; port?: number } = {}): Promise<DynaliteService> {
  const dynalite = require("dynalite") as (o: Record<string, unknown>) => Server;
  const server = dynalite({ path: opts.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    end: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // keep-alive sockets from SDK clients would hold close() open
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}

/** Static credentials for the local emulators (s3rver accepts only these); they authorize nothing real. */
export const localAwsConfig = (endpoint: string) => ({
  endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
});
