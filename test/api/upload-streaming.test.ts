import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash, randomBytes } from "node:crypto";
import { request } from "node:http";
import { readdir } from "node:fs/promises";
import { dirname } from "node:path";
import { createAdaptorServer } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import type { BuildResult } from "../../core/types.ts";
import { blobKeys } from "../../core/blobs/port.ts";
import { apiHarness } from "../helpers/api.ts";

const success: BuildResult = { type: "success", output: { version: 1, functions: [], static: [], routes: {} } };
const MB = 1024 * 1024;

/** A large upload made of one repeated block, so the client side holds 1 MB whatever the size. */
function generated(n: number, blocks: number, block: Buffer) {
  const prefix = Buffer.from(`file-${n}-`);
  const hash = createHash("sha1").update(prefix);
  for (let i = 0; i < blocks; i++) hash.update(block);
  return { prefix, blocks, block, size: prefix.length + blocks * block.length, sha: hash.digest("hex") };
}

function put(port: number, token: string, f: ReturnType<typeof generated>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method: "POST", path: "/v1/files", headers: { authorization: `Bearer ${token}`, "x-ferry-digest": f.sha, "content-length": String(f.size), "content-type": "application/octet-stream" } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.on("error", reject);
    void (async () => {
      req.write(f.prefix);
      for (let i = 0; i < f.blocks; i++) {
        if (!req.write(f.block)) await new Promise((r) => req.once("drain", r));
      }
      req.end();
    })();
  });
}

describe("API: uploads are streamed to the blob store", () => {
  let h: Awaited<ReturnType<typeof apiHarness>>;
  let small: Awaited<ReturnType<typeof apiHarness>>;
  let server: Server;
  let port: number;
  beforeAll(async () => {
    h = await apiHarness(async () => success, { maxFileSize: 100 * MB, maxFiles: 100 });
    small = await apiHarness(async () => success);
    server = createAdaptorServer({ fetch: h.api.app.fetch }) as Server;
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await h.end();
    await small.end();
  });

  const tmpEntries = async (hh: typeof h) => (await readdir(`${dirname(hh.blobs.localPath!("x/y"))}/.tmp`).catch(() => [] as string[])).length;

  it("three concurrent 60 MB uploads grow the platform's memory by much less than the bytes uploaded", async () => {
    const block = randomBytes(MB);
    // warm up the path (code, buffers, the first write) before measuring
    const warm = generated(99, 2, block);
    expect((await put(port, h.tokenA, warm)).status).toBe(201);
    globalThis.gc?.();
    const files = [0, 1, 2].map((n) => generated(n, 60, block));
    const uploaded = files.reduce((s, f) => s + f.size, 0);
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const results = await Promise.all(files.map((f) => put(port, h.tokenA, f)));
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    for (const r of results) expect(r.status, r.body).toBe(201);
    for (const f of files) expect(await h.blobs.head(blobKeys.file("acc_a", f.sha))).toEqual({ size: f.size });
    const grew = peak - before;
    console.info(`[uploads] RSS +${(grew / MB).toFixed(1)} MB at peak for ${(uploaded / MB).toFixed(0)} MB uploaded concurrently`);
    expect(grew, `RSS grew ${(grew / MB).toFixed(0)} MB for ${(uploaded / MB).toFixed(0)} MB uploaded`).toBeLessThan(uploaded / 3);
    // the bytes are the ones sent
    const stored = (await h.blobs.getStream(blobKeys.file("acc_a", files[1]!.sha)))!;
    const check = createHash("sha1");
    for await (const c of stored) check.update(c as Buffer);
    expect(check.digest("hex")).toBe(files[1]!.sha);
    expect(await tmpEntries(h)).toBe(0);
  });

  it("a digest mismatch found at the end of a large stream stores nothing and leaves no temp file", async () => {
    const block = randomBytes(MB);
    const f = generated(7, 8, block);
    const wrong = { ...f, sha: createHash("sha1").update("not these bytes").digest("hex") };
    const r = await put(port, h.tokenA, wrong);
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error.code).toBe("digest_mismatch");
    expect(await h.blobs.head(blobKeys.file("acc_a", wrong.sha))).toBeNull();
    expect(await h.blobs.head(blobKeys.file("acc_a", f.sha))).toBeNull();
    expect(await tmpEntries(h)).toBe(0);
  });

  it("enforces the file size limit while streaming a chunked body (413), storing nothing", async () => {
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        sent += 64 * 1024;
        c.enqueue(new Uint8Array(64 * 1024).fill(0x61));
      },
    });
    const digest = "a".repeat(40);
    const r = await small.api.app.request("/v1/files", { method: "POST", headers: { authorization: `Bearer ${small.tokenA}`, "x-ferry-digest": digest }, body, duplex: "half" } as RequestInit);
    expect(r.status).toBe(413);
    expect((await r.json()).error).toMatchObject({ code: "file_too_large", limit: MB });
    expect(sent).toBeLessThan(MB + 8 * 64 * 1024);
    expect(await small.blobs.list("files/")).toEqual([]);
    expect(await tmpEntries(small)).toBe(0);
  });

  it("refuses a declared Content-Length over the limit before reading", async () => {
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({ pull: (c) => { pulled++; c.enqueue(new Uint8Array(1024)); } });
    const r = await small.api.app.request("/v1/files", { method: "POST", headers: { authorization: `Bearer ${small.tokenA}`, "x-ferry-digest": "b".repeat(40), "content-length": String(MB + 1) }, body, duplex: "half" } as RequestInit);
    expect(r.status).toBe(413);
    expect(pulled).toBeLessThanOrEqual(1);
  });

  it("an upload of a file the account already has still checks its bytes", async () => {
    const [f] = await small.upload({ "a.txt": "already here" });
    const again = await small.call("POST", "/v1/files", { body: "already here", headers: { "x-ferry-digest": f!.sha } });
    expect(again.status).toBe(200);
    const lie = await small.call("POST", "/v1/files", { body: "other bytes", headers: { "x-ferry-digest": f!.sha } });
    expect(lie.status).toBe(400);
    expect((await lie.json()).error.code).toBe("digest_mismatch");
    expect((await small.blobs.get(blobKeys.file("acc_a", f!.sha)))!.toString()).toBe("already here");
  });
});
