import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blobKeys } from "../../core/blobs/port.ts";
import { createAesEncryptor } from "../../core/crypto/local.ts";
import type { Metadata } from "../../core/metadata/repository.ts";
import type { BuildOutput } from "../../core/types.ts";
import { createResolver } from "../../router/index.ts";
import { dynaliteMetadata } from "../helpers/metadata.ts";
import { scratch } from "../runtime/helpers.ts";
import { deployment } from "./helpers.ts";

// Host label -> deployment against real metadata (dynalite): cached briefly, invalidated at once.
describe("router: resolver", () => {
  let metadata: Metadata;
  let end: () => Promise<void>;
  let s: Awaited<ReturnType<typeof scratch>>;
  const encryptor = createAesEncryptor(Buffer.alloc(32, 7));
  const out = (name: string): BuildOutput => ({ version: 1, functions: [], static: [{ path: "index.html", key: `k/${name}`, sha: name, size: 1, contentType: "text/html" }], routes: {} });
  const host = (label: string, deploymentId: string, type: "deployment" | "alias") => ({ host: label, accountId: "acct_1", projectId: "prj_1", deploymentId, type, updatedAt: Date.now() });

  beforeAll(async () => {
    ({ metadata, end } = await dynaliteMetadata());
    s = await scratch();
    for (const id of ["dpl_one", "dpl_two"]) {
      await metadata.createDeployment(
        deployment({ id, accountId: "acct_1", projectId: "prj_1", project: "shop", host: `shop-${id.slice(4)}`, target: "production", envCipher: await encryptor.encrypt(JSON.stringify({ SECRET: id })) }),
      );
      await s.blobs.put(blobKeys.output(id), JSON.stringify(out(id)));
      await metadata.claimHost(host(`shop-${id.slice(4)}`, id, "deployment"));
    }
    await metadata.createDeployment(deployment({ id: "dpl_wip", state: "BUILDING", host: "shop-wip" }));
    await metadata.claimHost(host("shop-wip", "dpl_wip", "deployment"));
  });
  afterAll(async () => {
    await end();
    await s.cleanup();
  });

  it("resolves a deployment host with its output and env", async () => {
    const r = createResolver({ metadata, blobs: s.blobs, encryptor, domain: "apps.test" });
    const got = await r.resolve("shop-one");
    expect(got?.deployment.id).toBe("dpl_one");
    expect(got?.output?.static[0]?.sha).toBe("dpl_one");
    expect(got?.env).toEqual({
      SECRET: "dpl_one",
      FERRY_DEPLOYMENT_ID: "dpl_one",
      FERRY_PROJECT: "shop",
      FERRY_URL: "shop-one.apps.test",
      FERRY_ENV: "production",
      VERCEL: "1",
      VERCEL_ENV: "production",
      VERCEL_TARGET_ENV: "production",
      VERCEL_URL: "shop-one.apps.test",
      VERCEL_PROJECT_PRODUCTION_URL: "shop.apps.test",
      VERCEL_DEPLOYMENT_ID: "dpl_one",
    });
    expect(await r.resolve("nobody")).toBeNull();
    const wip = await r.resolve("shop-wip");
    expect(wip?.deployment.state).toBe("BUILDING");
    expect(wip?.output).toBeNull();
  });

  it("caches lookups briefly; invalidate makes an alias change visible at once", async () => {
    const r = createResolver({ metadata, blobs: s.blobs, encryptor, ttlMs: 60_000 });
    await metadata.setAlias(host("shop", "dpl_one", "alias"));
    expect((await r.resolve("shop"))?.deployment.id).toBe("dpl_one");

    await metadata.setAlias(host("shop", "dpl_two", "alias"));
    // still cached (long TTL) until invalidated
    expect((await r.resolve("shop"))?.deployment.id).toBe("dpl_one");
    r.invalidate("shop");
    expect((await r.resolve("shop"))?.deployment.id).toBe("dpl_two");

    await metadata.deleteHost("shop", "acct_1");
    r.invalidate("shop");
    expect(await r.resolve("shop")).toBeNull();
  });

  it("expires cached answers after the TTL", async () => {
    const r = createResolver({ metadata, blobs: s.blobs, encryptor, ttlMs: 50 });
    await metadata.setAlias(host("shop-ttl", "dpl_one", "alias"));
    expect((await r.resolve("shop-ttl"))?.deployment.id).toBe("dpl_one");
    await metadata.setAlias(host("shop-ttl", "dpl_two", "alias"));
    await new Promise((res) => setTimeout(res, 80));
    expect((await r.resolve("shop-ttl"))?.deployment.id).toBe("dpl_two");
  });

  it("does not serve a removed deployment", async () => {
    const r = createResolver({ metadata, blobs: s.blobs, encryptor });
    await metadata.updateDeployment("dpl_two", { removedAt: Date.now() });
    expect(await r.resolve("shop-two")).toBeNull();
  });
});
