import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Metadata } from "../../core/metadata/repository.ts";
import type { Deployment } from "../../core/types.ts";
import { dynaliteMetadata } from "../helpers/metadata.ts";

const dep = (over: Partial<Deployment> = {}): Deployment => ({
  id: `dpl_${Math.random().toString(36).slice(2, 12)}`,
  accountId: "acc_a",
  projectId: "prj_1",
  project: "hello",
  host: "hello-x",
  state: "QUEUED",
  target: "preview",
  fileCount: 1,
  config: {},
  inputHash: "h",
  createdAt: Date.now(),
  updatedAt: Date.now(),
  ...over,
});

/** The metadata contract, run against every backend the repository is pointed at. */
function metadataContract(name: string, make: typeof dynaliteMetadata, opts: Parameters<typeof dynaliteMetadata>[0] = {}) {
  describe(`Metadata contract: ${name}`, () => {
    let m: Metadata;
    let end: () => Promise<void>;
    beforeAll(async () => ({ metadata: m, end } = await make(opts)));
    afterAll(async () => end());

    it("stores tokens by hash and lists them per account", async () => {
      await m.putToken({ hash: "h1", id: "tok_1", accountId: "acc_a", name: "t", scopes: ["*"], createdAt: 1 });
      expect((await m.getTokenByHash("h1"))?.accountId).toBe("acc_a");
      expect(await m.getTokenByHash("nope")).toBeNull();
      await expect(m.putToken({ hash: "h1", id: "tok_2", accountId: "acc_b", name: "t", scopes: [], createdAt: 1 })).rejects.toThrow();
      expect((await m.listTokens("acc_a")).map((t) => t.id)).toEqual(["tok_1"]);
      expect(await m.listTokens("acc_b")).toEqual([]);
    });

    it("creates a project once, even when two creates race", async () => {
      const [a, b] = await Promise.all([
        m.ensureProject({ id: "prj_race1", accountId: "acc_a", name: "race", createdAt: 1 }),
        m.ensureProject({ id: "prj_race2", accountId: "acc_a", name: "race", createdAt: 2 }),
      ]);
      expect(a.id).toBe(b.id);
      expect((await m.getProject("acc_a", "race"))?.id).toBe(a.id);
      expect(await m.getProject("acc_b", "race")).toBeNull();
    });

    it("moves deployment state only from the expected states", async () => {
      const d = dep();
      await m.createDeployment(d);
      await expect(m.createDeployment(d)).rejects.toThrow();
      expect((await m.updateDeployment(d.id, { state: "BUILDING" }, ["QUEUED"]))?.state).toBe("BUILDING");
      expect((await m.updateDeployment(d.id, { state: "CANCELED" }, ["QUEUED", "BUILDING"]))?.state).toBe("CANCELED");
      // a late build result cannot resurrect a canceled deployment
      expect(await m.updateDeployment(d.id, { state: "READY" }, ["BUILDING"])).toBeNull();
      expect((await m.getDeployment(d.id))?.state).toBe("CANCELED");
      expect(await m.updateDeployment("dpl_missing", { state: "READY" })).toBeNull();
    });

    it("lists deployments newest first, per account and per project, and by state", async () => {
      const base = Date.now() + 10_000;
      const ds = [0, 1, 2].map((i) => dep({ accountId: "acc_list", projectId: i === 2 ? "prj_other" : "prj_list", createdAt: base + i }));
      for (const d of ds) await m.createDeployment(d);
      await m.createDeployment(dep({ accountId: "acc_elsewhere", createdAt: base + 5 }));
      expect((await m.listDeployments("acc_list")).map((d) => d.id)).toEqual([ds[2]!.id, ds[1]!.id, ds[0]!.id]);
      expect((await m.listDeployments("acc_list", { projectId: "prj_list" })).map((d) => d.id)).toEqual([ds[1]!.id, ds[0]!.id]);
      expect((await m.listDeployments("acc_list", { limit: 1 })).length).toBe(1);
      const queued = await m.deploymentsInStates(["QUEUED"]);
      expect(queued.map((d) => d.id)).toEqual(expect.arrayContaining(ds.map((d) => d.id)));
    });

    it("claims hosts once and moves aliases only within the owning account", async () => {
      const rec = { host: "app-abc", accountId: "acc_a", projectId: "p", deploymentId: "dpl_1", type: "deployment" as const, updatedAt: 1 };
      expect(await m.claimHost(rec)).toBe(true);
      expect(await m.claimHost({ ...rec, deploymentId: "dpl_2" })).toBe(false);
      // a deployment's own host cannot be taken over as an alias
      await expect(m.setAlias({ ...rec, type: "alias" })).rejects.toThrow(/already in use/);

      await m.setAlias({ host: "app", accountId: "acc_a", projectId: "p", deploymentId: "dpl_1", type: "alias", updatedAt: 1 });
      await m.setAlias({ host: "app", accountId: "acc_a", projectId: "p", deploymentId: "dpl_2", type: "alias", updatedAt: 2 });
      expect((await m.getHost("app"))?.deploymentId).toBe("dpl_2");
      await expect(m.setAlias({ host: "app", accountId: "acc_b", projectId: "q", deploymentId: "dpl_9", type: "alias", updatedAt: 3 })).rejects.toThrow(/already in use/);
      expect(await m.deleteHost("app", "acc_b")).toBe(false);
      expect((await m.listHosts("acc_a")).map((h) => h.host).sort()).toEqual(["app", "app-abc"]);
      expect(await m.deleteHost("app", "acc_a")).toBe(true);
      expect(await m.getHost("app")).toBeNull();
    });

    it("records production with a guard against concurrent promotion", async () => {
      await m.ensureProject({ id: "prj_prod", accountId: "acc_a", name: "prod", createdAt: 1 });
      await m.setProduction("acc_a", "prod", "dpl_1", undefined, []);
      await expect(m.setProduction("acc_a", "prod", "dpl_2", "dpl_wrong", [])).rejects.toThrow(/concurrently/);
      await m.setProduction("acc_a", "prod", "dpl_2", "dpl_1", ["dpl_1"]);
      const p = await m.getProject("acc_a", "prod");
      expect(p?.productionDeploymentId).toBe("dpl_2");
      expect(p?.productionHistory).toEqual(["dpl_1"]);
    });

    it("keeps a build cache per account", async () => {
      await m.putBuildCache("acc_a", "hash1", "dpl_1", "deployments/dpl_1/output.json");
      expect((await m.getBuildCache("acc_a", "hash1"))?.deploymentId).toBe("dpl_1");
      expect(await m.getBuildCache("acc_b", "hash1")).toBeNull();
    });
  });
}

metadataContract("dynalite (in memory)", dynaliteMetadata);
metadataContract("dynalite (persisted on disk)", dynaliteMetadata, { persisted: true });

describe("Metadata persistence", () => {
  it("keeps everything across a dynalite restart", async () => {
    const first = await dynaliteMetadata({ persisted: true });
    const d = dep({ accountId: "acc_p" });
    await first.metadata.createDeployment(d);
    await first.end();
    const second = await dynaliteMetadata({ path: first.path });
    try {
      expect((await second.metadata.getDeployment(d.id))?.id).toBe(d.id);
    } finally {
      await second.end();
    }
  });
});
