import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash, randomBytes } from "node:crypto";
import { request, type Server } from "node:http";
import { readdir } from "node:fs/promises";
import { dirname } from "node:path";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import type { BuildResult } from "../../core/types.ts";
import { blobKeys } from "../../core/blobs/port.ts";
import { createToken } from "../../api/services/tokens.ts";
import { apiHarness } from "../helpers/api.ts";

const success: BuildResult = { type: "success", output: { version: 1, functions: [], static: [], routes: {} } };
const KB = 1024;
const MB = 1024 * KB;
const sha = (b: Buffer) => createHash("sha1").update(b).digest("hex");
const frame = (bytes: Buffer, digest = sha(bytes), size = bytes.length) => Buffer.concat([Buffer.from(`${digest} ${size}\n`), bytes]);

/** A POST over a real socket, the body written in small pieces so frames straddle chunks. */
function post(port: number, token: string, body: Buffer, path = "/v1/files/batch"): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method: "POST", path, headers: { authorization: `Bearer ${token}`, "content-type": "application/x-ferry-batch", "content-length": String(body.length) } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode!, json: JSON.parse(text) }));
    });
    // a server that answers before reading everything may close the socket under the writes
    req.on("error", (e: NodeJS.ErrnoException) => (e.code === "EPIPE" || e.code === "ECONNRESET" ? undefined : reject(e)));
    void (async () => {
      for (let i = 0; i < body.length; i += 7001) {
        if (!req.write(body.subarray(i, i + 7001))) await new Promise((r) => req.once("drain", r));
      }
      req.end();
    })();
  });
}

describe("API: POST /v1/files/batch", () => {
  let h: Awaited<ReturnType<typeof apiHarness>>;
  let server: Server;
  let port: number;
  beforeAll(async () => {
    h = await apiHarness(async () => success, { maxFileSize: 1 * MB, maxFiles: 100 });
    server = createAdaptorServer({ fetch: h.api.app.fetch }) as Server;
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await h.end();
  });

  const stored = async (account: string, bytes: Buffer) => (await h.blobs.get(blobKeys.file(account, sha(bytes))))?.equals(bytes) ?? false;
  const leftovers = async () => (await readdir(`${dirname(h.blobs.localPath!("x/y"))}/.tmp`).catch(() => [] as string[])).length;

  it("stores every file of a good batch, small and streamed alike, and reports the ones already there", async () => {
    const files = [randomBytes(1 * KB), randomBytes(300 * KB), Buffer.alloc(0), randomBytes(10)];
    const r = await post(port, h.tokenA, Buffer.concat(files.map((f) => frame(f))));
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json.files).toEqual(files.map((f) => ({ sha: sha(f), size: f.length, existed: false })));
    for (const f of files) expect(await stored("acc_a", f)).toBe(true);

    // the same file twice, and one stored by the first batch: both already there
    const again = await post(port, h.tokenA, Buffer.concat([frame(files[0]!), frame(files[3]!), frame(files[3]!)]));
    expect(again.status).toBe(200);
    expect(again.json.files.map((f: { existed: boolean }) => f.existed)).toEqual([true, true, true]);
  });

  it("refuses only the file whose bytes do not match its digest, in the middle of a batch, and says which", async () => {
    const [before, after] = [randomBytes(2 * KB), randomBytes(3 * KB)];
    const claimed = randomBytes(KB);
    const actual = randomBytes(KB);
    const bigClaimed = randomBytes(400 * KB);
    const bigActual = randomBytes(400 * KB);
    const body = Buffer.concat([frame(before), frame(actual, sha(claimed)), frame(bigActual, sha(bigClaimed)), frame(after)]);
    const r = await post(port, h.tokenA, body);
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe("digest_mismatch");
    expect(r.json.error.failed).toEqual([sha(claimed), sha(bigClaimed)]);
    expect(r.json.error.message).toContain(`2 of 4 files`);
    expect(r.json.error.files[1]).toMatchObject({ sha: sha(claimed), error: { code: "digest_mismatch", actual: sha(actual) } });
    expect(r.json.error.files[0]).toEqual({ sha: sha(before), size: before.length, existed: false });
    // nothing of the two mismatched files, under either digest; the good ones around them are whole
    for (const f of [claimed, actual, bigClaimed, bigActual]) expect(await h.blobs.head(blobKeys.file("acc_a", sha(f)))).toBeNull();
    expect(await stored("acc_a", before)).toBe(true);
    expect(await stored("acc_a", after)).toBe(true);
    expect(await leftovers()).toBe(0);
  });

  it("refuses a file over the size limit by its header, storing nothing of it", async () => {
    const ok = randomBytes(KB);
    const big = randomBytes(MB + 1);
    const r = await post(port, h.tokenA, Buffer.concat([frame(ok), frame(big)]));
    expect(r.status).toBe(413);
    expect(r.json.error).toMatchObject({ code: "file_too_large", limit: MB, frame: 2, file: sha(big) });
    expect(r.json.error.message).toContain("frame 2");
    expect(await h.blobs.head(blobKeys.file("acc_a", sha(big)))).toBeNull();
    expect(await stored("acc_a", ok)).toBe(true);
    expect(await leftovers()).toBe(0);
  });

  it("needs a valid token with the deployments scope, and stores per account", async () => {
    const f = randomBytes(KB);
    expect((await post(port, "fry_wrong", frame(f))).status).toBe(401);
    const narrow = (await createToken(h.metadata, "acc_a", "logs only", ["logs"])).token;
    const denied = await post(port, narrow, frame(f));
    expect(denied.status).toBe(403);
    expect(await h.blobs.head(blobKeys.file("acc_a", sha(f)))).toBeNull();
    const scoped = (await createToken(h.metadata, "acc_a", "deploy", ["deployments"])).token;
    expect((await post(port, scoped, frame(f))).json.files[0].existed).toBe(false);
    // account b uploading the same bytes learns nothing of account a's copy
    const b = await post(port, h.tokenB, frame(f));
    expect(b.json.files[0].existed).toBe(false);
    expect(await stored("acc_b", f)).toBe(true);
  });

  it("answers malformed framing with 400 invalid_batch naming the frame and what was wrong", async () => {
    const good = randomBytes(KB);
    const large = randomBytes(300 * KB);
    const cases: [string, Buffer, RegExp][] = [
      ["empty body", Buffer.alloc(0), /empty/],
      ["upper-case digest", Buffer.concat([frame(good), Buffer.from(`${sha(good).toUpperCase()} 3\nabc`)]), /frame 2 \(at byte 1070\).*header/],
      ["no size", Buffer.from(`${sha(good)}\n`), /frame 1 .*header/],
      ["size with a sign", Buffer.from(`${sha(good)} +3\nabc`), /frame 1 .*header/],
      ["no line end", Buffer.from("x".repeat(200)), /frame 1 .*no line end within 57 bytes/],
      ["header cut short", Buffer.concat([frame(good), Buffer.from(sha(good).slice(0, 10))]), /frame 2 .*ends inside the header/],
      ["body cut short", Buffer.concat([frame(good).subarray(0, 600)]), /frame 1 .*ends after 554 of its 1024 bytes/],
      ["streamed file cut short", frame(large).subarray(0, 100 * KB), new RegExp(`frame 1 .*file ${sha(large)}: the body ends after`)],
    ];
    for (const [name, body, message] of cases) {
      const r = await post(port, h.tokenA, body);
      expect(r.status, name).toBe(400);
      expect(r.json.error.code, name).toBe("invalid_batch");
      expect(r.json.error.message, name).toMatch(message);
    }
    // a file cut short is not stored; a complete one before a bad frame is
    expect(await h.blobs.head(blobKeys.file("acc_a", sha(large)))).toBeNull();
    expect(await stored("acc_a", good)).toBe(true);
    expect(await leftovers()).toBe(0);
  });

  it("refuses more files in one batch than a deployment may have", async () => {
    const body = Buffer.concat(Array.from({ length: 101 }, (_, i) => frame(Buffer.from(`file ${i}`))));
    const r = await post(port, h.tokenA, body);
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/frame 101 .*at most 100 files/);
  });
});
