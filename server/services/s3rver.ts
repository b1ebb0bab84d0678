import { createRequire } from "node:module";
import { mkdir } from "node:fs/promises";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const require = createRequire(import.meta.url);

export interface S3rverService {
  endpoint: string;
  end(): Promise<void>;
}

/** Starts s3rver on loopback, persisting under `directory` (a temp folder when omitted). */
export async function startS3rver(opts: { directory?: string; port?: number; buckets?: string[] } = {}): Promise<S3rverService> {
  const S3rver = require("s3rver") as new (o: Record<string, unknown>) => {
    run(): Promise<{ port: number }>;
    close(): Promise<void>;
  };
  const directory = opts.directory ?? mkdtempSync(join(tmpdir(), "ferry-s3rver-"));
  await mkdir(directory, { recursive: true });
  const server = new S3rver({
    address: "127.0.0.1",
    port: opts.port ?? 0,
    silent: true,
    directory,
    configureBuckets: (opts.buckets ?? []).map((name) => ({ name, configs: [] })),
  });
  const { port } = await server.run();
  return { endpoint: `http://127.0.0.1:${port}`, end: () => server.close() };
}
