import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFsBlobStore } from "../../core/blobs/fs.ts";
import { sha1 } from "../../core/ids.ts";
import { createApi } from "../../api/app.ts";
import { createBuildLogs } from "../../api/services/build-logs.ts";
import { createBuildRunner, type ExecuteBuild } from "../../api/services/builds.ts";
import { createToken } from "../../api/services/tokens.ts";
import { dynaliteMetadata } from "./metadata.ts";
import { randomBytes } from "node:crypto";
import { createFileLogStore } from "../../core/logs/file.ts";
import { createAesEncryptor } from "../../core/crypto/local.ts";
import { linkDeployment } from "../../api/services/link.ts";
import type { StoreProvisioner } from "../../stores/port.ts";
import type { ApiDeps } from "../../api/types.ts";

/**
 * The API in-process over real dynalite and a real filesystem blob store. The build step is
 * passed in: API tests exercise the queue and state machine; the builder has its own suites.
 * `egress` as the operator would set it (tests with receivers on loopback allow private networks).
 */
export async function apiHarness(execute: ExecuteBuild, limits = { maxFileSize: 1024 * 1024, maxFiles: 100 }, stores?: StoreProvisioner, egress?: ApiDeps["egress"]) {
  const dir = await mkdtemp(join(tmpdir(), "ferry-api-"));
  const { metadata, end } = await dynaliteMetadata();
  const blobs = createFsBlobStore(dir);
  const buildLogs = createBuildLogs(blobs, 20);
  const invalidated: string[] = [];
  const encryptor = createAesEncryptor(randomBytes(32));
  let api: ReturnType<typeof createApi>;
  const builds = createBuildRunner({
    metadata,
    blobs,
    logs: buildLogs,
    execute,
    decrypt: (c) => encryptor.decrypt(c),
    domain: "ferry.test",
    link: (d, log) => linkDeployment({ metadata, encryptor, stores }, d, log),
    onReady: async (d) => {
      if (d.target === "production") await api.services.aliases.promote({ accountId: d.accountId, tokenId: "t", scopes: ["*"] }, d);
    },
  });
  const logs = createFileLogStore(join(dir, "logs"), 10);
  api = createApi({ metadata, blobs, encryptor, stores, logs, builds, buildLogs, domain: "ferry.test", urlFor: (l) => `http://${l}.ferry.test`, limits, onHostsChanged: (l) => invalidated.push(...l), egress });
  await metadata.putAccount({ id: "acc_a", name: "a", createdAt: 1 });
  await metadata.putAccount({ id: "acc_b", name: "b", createdAt: 1 });
  const tokenA = (await createToken(metadata, "acc_a", "a")).token;
  const tokenB = (await createToken(metadata, "acc_b", "b")).token;

  const call = (method: string, path: string, opts: { token?: string | null; json?: unknown; body?: string | Buffer; headers?: Record<string, string> } = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    const token = opts.token === undefined ? tokenA : opts.token;
    if (token) headers.authorization = `Bearer ${token}`;
    if (opts.json !== undefined) headers["content-type"] = "application/json";
    return api.app.request(path, { method, headers, body: opts.json !== undefined ? JSON.stringify(opts.json) : (opts.body as BodyInit | undefined) });
  };

  /** Uploads the given files for an account and returns their file list entries. */
  const upload = async (files: Record<string, string>, token = tokenA) => {
    const list = [];
    for (const [file, content] of Object.entries(files)) {
      const sha = sha1(content);
      const r = await call("POST", "/v1/files", { token, body: content, headers: { "x-ferry-digest": sha } });
      if (r.status >= 300) throw new Error(`upload failed: ${r.status} ${await r.text()}`);
      list.push({ file, sha, size: Buffer.byteLength(content), mode: 0o100644 });
    }
    return list;
  };

  const waitFor = async (id: string, token = tokenA) => {
    await builds.whenIdle();
    return (await call("GET", `/v1/deployments/${id}`, { token })).json() as Promise<Record<string, any>>;
  };

  return {
    api, encryptor, metadata, logs, blobs, builds, buildLogs, call, upload, waitFor, tokenA, tokenB, invalidated,
    end: async () => {
      await builds.whenIdle();
      await buildLogs.close();
      await logs.close();
      await end();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
