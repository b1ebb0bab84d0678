import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startAppDataServices, type AppDataServices } from "../../stores/embedded.ts";
import type { ProvisionSpec } from "../../stores/kv-keys.ts";
import type { LinkedStore, StoreProvisioner } from "../../stores/port.ts";
import { runAppClient, spec, testGrants } from "./helpers.ts";

type Provisioner = StoreProvisioner & { ensure(spec: ProvisionSpec): Promise<LinkedStore> };

interface Harness {
  /** re-read after restart(): a restart may hand out a new provisioner */
  provisioner(): Provisioner;
  /** stops the services and starts them again on the same data */
  restart(): Promise<void>;
  /** what a function using exactly `store` runs with: its env plus, where needed, credentials for it */
  envOf(store: LinkedStore): Record<string, string>;
  end(): Promise<void>;
}

const SIX_MB = 6 * 1024 * 1024;

/** The StoreProvisioner contract: every implementation passes the same suite. */
function provisionerContract(name: string, make: () => Promise<Harness>) {
  describe(`StoreProvisioner contract: ${name}`, () => {
    let h: Harness;
    beforeAll(async () => {
      h = await make();
    });
    afterAll(async () => h?.end());
    const p = () => h.provisioner();

    it("links a kv store whose env lets plain SDK code in a child process write and read", async () => {
      const linked = await p().ensure(spec({ type: "kv", name: "todos" }));
      expect(linked.env.FERRY_STORE_TODOS_TYPE).toBe("kv");
      expect(linked.env.FERRY_STORE_TODOS_TABLE).toBe(linked.resource);
      expect(linked.env.FERRY_STORE_TODOS_PARTITION_KEY).toBe("pk");
      expect(linked.env.FERRY_STORE_TODOS_SORT_KEY).toBe("sk");
      const put = await runAppClient(h.envOf(linked), { op: "kv-put", store: "todos", key: "t1", value: { title: "milk", done: false } });
      expect(put.item).toMatchObject({ pk: "t1", sk: "item", value: { title: "milk", done: false } });
    });

    it("links a blob store that round-trips 6 MB streamed from a child and a zero-byte object, byte for byte", async () => {
      const linked = await p().ensure(spec({ type: "blob", name: "my-files" }));
      expect(linked.env.FERRY_STORE_MY_FILES_TYPE).toBe("blob");
      expect(linked.env.FERRY_STORE_MY_FILES_BUCKET).toBe(linked.resource);
      const put = await runAppClient<{ sha256: string }>(h.envOf(linked), {
        op: "blob-put",
        store: "my-files",
        key: "big/random.bin",
        size: SIX_MB,
        contentType: "application/octet-stream",
      });
      const got = await runAppClient(h.envOf(linked), { op: "blob-get", store: "my-files", key: "big/random.bin" });
      expect(got).toEqual({ sha256: put.sha256, size: SIX_MB, contentType: "application/octet-stream" });

      await runAppClient(h.envOf(linked), { op: "blob-put", store: "my-files", key: "empty", size: 0, contentType: "text/plain" });
      const empty = await runAppClient(h.envOf(linked), { op: "blob-get", store: "my-files", key: "empty" });
      expect(empty).toMatchObject({ size: 0, sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", contentType: "text/plain" });
    });

    it("ensure is idempotent: same resource, same env, data kept", async () => {
      for (const type of ["kv", "blob"] as const) {
        const s = spec({ type, name: "data" });
        const first = await p().ensure(s);
        if (type === "kv") await runAppClient(h.envOf(first), { op: "kv-put", store: "data", key: "k", value: 1 });
        else await runAppClient(h.envOf(first), { op: "blob-put", store: "data", key: "k", size: 10 });
        const [second, third] = await Promise.all([p().ensure(s), p().ensure(s)]);
        for (const again of [second, third]) {
          expect(again.resource).toBe(first.resource);
          expect(again.env).toEqual(first.env);
          expect(again.createdAt).toBe(first.createdAt);
        }
        expect(await p().usage(first)).toMatchObject({ items: 1 });
      }
    });

    it("gives production and preview their own resources", async () => {
      const prod = await p().ensure(spec({ type: "kv", name: "todos", project: "shared-proj" }));
      const preview = await p().ensure({ ...prod, environment: "preview" });
      expect(preview.resource).not.toBe(prod.resource);
      await runAppClient(h.envOf(prod), { op: "kv-put", store: "todos", key: "only-prod", value: "x" });
      expect(await runAppClient(h.envOf(preview), { op: "kv-get", store: "todos", key: "only-prod" })).toEqual({ item: null });
      const prodBlob = await p().ensure(spec({ type: "blob", name: "files", project: "shared-proj" }));
      const previewBlob = await p().ensure({ ...prodBlob, environment: "preview" });
      expect(previewBlob.resource).not.toBe(prodBlob.resource);
    });

    it("reports usage: item count for kv, object count and bytes for blob", async () => {
      const kv = await p().ensure(spec({ type: "kv", name: "counted" }));
      expect(await p().usage(kv)).toMatchObject({ items: 0 });
      for (const key of ["a", "b", "c"]) await runAppClient(h.envOf(kv), { op: "kv-put", store: "counted", key, value: key });
      expect((await p().usage(kv)).items).toBe(3);

      const blob = await p().ensure(spec({ type: "blob", name: "sized" }));
      expect(await p().usage(blob)).toEqual({ items: 0, bytes: 0 });
      for (const [key, size] of [["a", 1000], ["b/c", 2345], ["z", 0]] as const)
        await runAppClient(h.envOf(blob), { op: "blob-put", store: "sized", key, size });
      expect(await p().usage(blob)).toEqual({ items: 3, bytes: 3345 });
    });

    it("destroy removes the resource and its data; destroying twice is fine", async () => {
      const kv = await p().ensure(spec({ type: "kv", name: "gone" }));
      await runAppClient(h.envOf(kv), { op: "kv-put", store: "gone", key: "k", value: 1 });
      const blob = await p().ensure(spec({ type: "blob", name: "gone" }));
      await runAppClient(h.envOf(blob), { op: "blob-put", store: "gone", key: "a", size: 100 });
      await runAppClient(h.envOf(blob), { op: "blob-put", store: "gone", key: "b/c", size: 0 });
      for (const s of [kv, blob]) {
        await p().destroy(s);
        await p().destroy(s);
        await expect(p().usage(s)).rejects.toMatchObject({ code: "store_not_found" });
      }
      await expect(runAppClient(h.envOf(kv), { op: "kv-get", store: "gone", key: "k" })).rejects.toThrow(/ResourceNotFound/);
      await expect(runAppClient(h.envOf(blob), { op: "blob-get", store: "gone", key: "a" })).rejects.toThrow(/NoSuchBucket/);
      // linking again starts empty
      const kv2 = await p().ensure(kv);
      expect(kv2.resource).toBe(kv.resource);
      expect(await runAppClient(h.envOf(kv2), { op: "kv-get", store: "gone", key: "k" })).toEqual({ item: null });
      expect(await p().usage(await p().ensure(blob))).toEqual({ items: 0, bytes: 0 });
    });

    it("refuses to destroy or measure a resource that is not the store's own", async () => {
      const kv = await p().ensure(spec({ type: "kv", name: "mine" }));
      const other = await p().ensure(spec({ type: "kv", name: "theirs" }));
      await expect(p().destroy({ ...kv, resource: other.resource })).rejects.toMatchObject({ code: "store_mismatch" });
      await expect(p().usage({ ...kv, resource: "ferry" })).rejects.toMatchObject({ code: "store_mismatch" });
      expect(await p().usage(other)).toMatchObject({ items: 0 });
    });

    it("creates kv tables with declared keys and rejects a change of keys", async () => {
      const s: ProvisionSpec = { ...spec({ type: "kv", name: "users" }), keys: { partition: "id" } };
      const linked = await p().ensure(s);
      expect(linked.env.FERRY_STORE_USERS_PARTITION_KEY).toBe("id");
      expect(linked.env.FERRY_STORE_USERS_SORT_KEY).toBeUndefined();
      const put = await runAppClient(h.envOf(linked), { op: "kv-put", store: "users", key: "u1", value: "ada" });
      expect(put.item).toEqual({ id: "u1", value: "ada" });
      await expect(p().ensure({ ...s, keys: undefined })).rejects.toMatchObject({ code: "store_keys_mismatch" });
      await expect(p().ensure({ ...s, keys: { partition: "bad name" } })).rejects.toMatchObject({ code: "invalid_store_keys" });
    });

    it("keeps data across a restart of the services", async () => {
      const kv = await p().ensure(spec({ type: "kv", name: "durable" }));
      const blob = await p().ensure(spec({ type: "blob", name: "durable" }));
      await runAppClient(h.envOf(kv), { op: "kv-put", store: "durable", key: "k", value: "kept" });
      const put = await runAppClient<{ sha256: string }>(h.envOf(blob), { op: "blob-put", store: "durable", key: "f", size: 300_000, contentType: "image/png" });

      await h.restart();

      const kv2 = await p().ensure(kv);
      const blob2 = await p().ensure(blob);
      expect(kv2.resource).toBe(kv.resource);
      expect(blob2.resource).toBe(blob.resource);
      expect(kv2.createdAt).toBe(kv.createdAt);
      expect(await runAppClient(h.envOf(kv2), { op: "kv-get", store: "durable", key: "k" })).toMatchObject({ item: { value: "kept" } });
      expect(await runAppClient(h.envOf(blob2), { op: "blob-get", store: "durable", key: "f" })).toEqual({
        sha256: put.sha256,
        size: 300_000,
        contentType: "image/png",
      });
      // functions linked before the restart keep working: same endpoints
      expect(kv2.env).toEqual(kv.env);
      expect(blob2.env).toEqual(blob.env);
    });
  });
}

provisionerContract("embedded (dynalite + s3rver behind the store gateway)", async () => {
  const home = await mkdtemp(join(tmpdir(), "ferry-appdata-"));
  const grants = testGrants();
  let services: AppDataServices = await startAppDataServices(home, { authorize: grants.authorize });
  return {
    provisioner: () => services.provisioner,
    envOf: (store) => grants.access(store),
    async restart() {
      await services.end();
      services = await startAppDataServices(home, { authorize: grants.authorize });
    },
    async end() {
      await services.end();
      await rm(home, { recursive: true, force: true });
    },
  };
});
