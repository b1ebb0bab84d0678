import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { createFsBlobStore } from "../../core/blobs/fs.ts";
import { blobStoreFromSpec } from "../../core/blobs/from-env.ts";
import type { BlobStore } from "../../core/blobs/port.ts";
import { startS3rver, type S3rverService } from "../../server/services/s3rver.ts";

const readAll = async (s: NodeJS.ReadableStream) => {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
};

/** The blob store contract: every implementation passes the same suite. */
function blobStoreContract(name: string, make: () => Promise<{ store: BlobStore; end: () => Promise<void> }>) {
  describe(`BlobStore contract: ${name}`, () => {
    let store: BlobStore;
    let end: () => Promise<void>;
    beforeAll(async () => ({ store, end } = await make()));
    afterAll(async () => end());

    it("round-trips bytes exactly, including large binary bodies", async () => {
      const big = randomBytes(3 * 1024 * 1024 + 7);
      await store.put("files/acc1/big", big);
      expect((await store.get("files/acc1/big"))!.equals(big)).toBe(true);
      expect(await store.head("files/acc1/big")).toEqual({ size: big.length });
      await store.put("files/acc1/empty", Buffer.alloc(0));
      expect((await store.get("files/acc1/empty"))!.length).toBe(0);
    });

    it("returns null for missing keys", async () => {
      expect(await store.get("nope/missing")).toBeNull();
      expect(await store.head("nope/missing")).toBeNull();
      expect(await store.getStream("nope/missing")).toBeNull();
    });

    it("streams whole blobs and inclusive byte ranges", async () => {
      await store.put("r/abc", "0123456789");
      expect((await readAll((await store.getStream("r/abc"))!)).toString()).toBe("0123456789");
      expect((await readAll((await store.getStream("r/abc", { start: 2, end: 5 }))!)).toString()).toBe("2345");
    });

    it("overwrites, deletes and lists by prefix", async () => {
      await store.put("l/a/1", "one");
      await store.put("l/a/2", "two");
      await store.put("l/b/3", "three");
      await store.put("l/a/1", "uno");
      expect((await store.get("l/a/1"))!.toString()).toBe("uno");
      expect(await store.list("l/a/")).toEqual(["l/a/1", "l/a/2"]);
      await store.delete("l/a/1");
      await store.delete("l/a/never-existed");
      expect(await store.list("l/")).toEqual(["l/a/2", "l/b/3"]);
    });

    it("writes a stream without holding it whole, byte-exact across many chunks", async () => {
      const block = randomBytes(1024 * 1024 + 13);
      const chunks = 17;
      const expected = createHash("sha1");
      for (let i = 0; i < chunks; i++) expected.update(block);
      await store.putStream("files/acc1/streamed", Readable.from((function* () {
        for (let i = 0; i < chunks; i++) yield block;
      })()));
      expect(await store.head("files/acc1/streamed")).toEqual({ size: block.length * chunks });
      const got = createHash("sha1");
      for await (const c of (await store.getStream("files/acc1/streamed"))!) got.update(c as Buffer);
      expect(got.digest("hex")).toBe(expected.digest("hex"));
      await store.putStream("files/acc1/streamed-empty", Readable.from([]));
      expect((await store.get("files/acc1/streamed-empty"))!.length).toBe(0);
      await store.putStream("files/acc1/streamed-small", Readable.from([Buffer.from("small "), new Uint8Array([98, 111, 100, 121])]));
      expect((await store.get("files/acc1/streamed-small"))!.toString()).toBe("small body");
    });

    it("a stream that fails stores nothing under its key and leaves an existing blob as it was", async () => {
      const failing = (after: number) =>
        Readable.from((async function* () {
          for (let i = 0; i < after; i++) yield randomBytes(1024 * 1024);
          throw new Error("client went away");
        })());
      await expect(store.putStream("files/acc1/never", failing(1))).rejects.toThrow(/client went away/);
      expect(await store.head("files/acc1/never")).toBeNull();
      await expect(store.putStream("files/acc1/never-big", failing(12))).rejects.toThrow(/client went away/);
      expect(await store.head("files/acc1/never-big")).toBeNull();
      await store.put("files/acc1/kept", "old bytes");
      await expect(store.putStream("files/acc1/kept", failing(2))).rejects.toThrow(/client went away/);
      expect((await store.get("files/acc1/kept"))!.toString()).toBe("old bytes");
      expect(await store.list("files/acc1/")).not.toContainEqual(expect.stringMatching(/never|\.part|tmp/));
    });

    it("rejects keys that could escape", async () => {
      await expect(store.put("../etc/passwd", "x")).rejects.toThrow(/invalid blob key/);
      await expect(store.get("a/../../b")).rejects.toThrow(/invalid blob key/);
      await expect(store.putStream("../x", Readable.from([]))).rejects.toThrow(/invalid blob key/);
    });
  });
}

blobStoreContract("filesystem", async () => {
  const dir = await mkdtemp(join(tmpdir(), "ferry-blobs-"));
  return { store: createFsBlobStore(dir), end: () => rm(dir, { recursive: true, force: true }) };
});

blobStoreContract("s3 (s3rver)", async () => {
  const s3: S3rverService = await startS3rver({ buckets: ["ferry-test"] });
  return { store: blobStoreFromSpec(`s3:ferry-test?endpoint=${s3.endpoint}`), end: () => s3.end() };
});

describe("filesystem blob store: folders removed under it", () => {
  it("makes the temp and key folders again, for small and large puts", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ferry-blobs-"));
    try {
      const store = createFsBlobStore(dir);
      const big = randomBytes(200 * 1024);
      await store.put("files/acc/a", "small");
      await store.put("files/acc/b", big);
      await rm(join(dir, ".tmp"), { recursive: true, force: true });
      await rm(join(dir, "files"), { recursive: true, force: true });
      await store.put("files/acc/c", "small again");
      expect((await store.get("files/acc/c"))!.toString()).toBe("small again");
      await rm(join(dir, ".tmp"), { recursive: true, force: true });
      await rm(join(dir, "files"), { recursive: true, force: true });
      await store.put("files/acc/d", big);
      expect((await store.get("files/acc/d"))!.equals(big)).toBe(true);
      expect(await store.head("files/acc/c")).toBeNull();
      expect(await store.list("files/")).toEqual(["files/acc/d"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
