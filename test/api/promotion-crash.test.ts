import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { BuildResult } from "../../core/types.ts";
import type { Metadata } from "../../core/metadata/repository.ts";
import { apiHarness } from "../helpers/api.ts";

const success: BuildResult = { type: "success", output: { version: 1, functions: [], static: [], routes: {} } };
const ALIASES = Array.from({ length: 60 }, (_, i) => `shop-${i}`);
const LABELS = ["shop", ...ALIASES];
// one promotion is 1 claim + 61 label moves + 1 finish
const STEPS = 1 + LABELS.length + 1;
const WRITES = ["claimPromotion", "moveAlias", "finishPromotion"] as const;

class Killed extends Error {
  constructor() {
    super("platform killed");
  }
}

/**
 * A promotion moves many labels one write at a time. Whatever write a crash stops it at (before
 * the write lands, or after it landed but before anything else ran), the start-time replay must
 * leave every label naming the deployment the project's record names, and a deployment any
 * alias names must not be removable.
 */
describe("API: promotion survives a crash at any step", () => {
  let h: Awaited<ReturnType<typeof apiHarness>>;
  let first = "";
  let second = "";
  const original: Partial<Metadata> = {};

  beforeAll(async () => {
    // the API logs each simulated crash as an unexpected error; only those are kept quiet
    const log = console.error;
    vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => {
      if (!a.some((x) => x instanceof Killed)) log(...a);
    });
    h = await apiHarness(async () => success, { maxFileSize: 1024 * 1024, maxFiles: 100 });
    for (const w of WRITES) (original as Record<string, unknown>)[w] = h.metadata[w];
    first = await deployProd("one");
    second = await deployProd("two");
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await h.end();
  });
  beforeEach(() => restore());

  async function deployProd(text: string) {
    const files = await h.upload({ "ferry.json": JSON.stringify({ name: "shop", alias: ALIASES }), "index.html": text });
    const d = await (await h.call("POST", "/v1/deployments", { json: { files, target: "production" } })).json();
    expect((await h.waitFor(d.id)).state).toBe("READY");
    return d.id as string;
  }

  function restore() {
    Object.assign(h.metadata, original);
  }

  /** Every promotion write goes through here; `before(n)`/`after(n)` may throw to stop the "process". */
  function intercept(hooks: { before?: (n: number, name: string) => void | Promise<void>; after?: (n: number, name: string) => void }) {
    let n = 0;
    for (const w of WRITES) {
      const real = original[w] as (...a: unknown[]) => Promise<unknown>;
      (h.metadata as Record<string, unknown>)[w] = async (...args: unknown[]) => {
        const step = n++;
        await hooks.before?.(step, w);
        const r = await real.apply(h.metadata, args);
        hooks.after?.(step, w);
        return r;
      };
    }
  }
  const crashAt = (k: number, when: "before" | "after") =>
    intercept(when === "before" ? { before: (n) => { if (n === k) throw new Killed(); } } : { after: (n) => { if (n === k) throw new Killed(); } });

  const labels = async () => {
    const hosts = (await h.metadata.listHosts("acc_a")).filter((x) => x.type === "alias");
    return new Map(LABELS.map((l) => [l, hosts.find((x) => x.host === l)?.deploymentId]));
  };
  const production = async () => (await h.metadata.getProject("acc_a", "shop"))!.productionDeploymentId;
  const expectConsistent = async (why: string) => {
    const record = await production();
    const byLabel = await labels();
    const wrong = [...byLabel].filter(([, id]) => id !== record).map(([l]) => l);
    expect(wrong, `${why}: labels not on ${record}`).toEqual([]);
    expect(await h.metadata.listPendingPromotions(), why).toEqual([]);
    return record;
  };

  it("has 61 labels on production to start with", async () => {
    expect(await expectConsistent("after two production deploys")).toBe(second);
  });

  for (const when of ["before", "after"] as const) {
    it(`a crash ${when} any promotion write is finished by the replay at start`, async () => {
      // every step: the claim, each of the 61 label moves, the finish
      for (let k = 0; k < STEPS; k++) {
        const from = await production();
        const to = from === first ? second : first;
        crashAt(k, when);
        const r = await h.call("POST", `/v1/deployments/${to}/promote`);
        restore();
        expect(r.status, `crash at write ${k}`).toBe(500);

        const claimed = k > 0 || when === "after";
        const finished = k === STEPS - 1 && when === "after";
        const pending = await h.metadata.listPendingPromotions();
        expect(pending.length, `crash ${when} write ${k}`).toBe(claimed && !finished ? 1 : 0);
        // the crash really left labels split (somewhere in the middle)
        if (k > 2 && k < STEPS - 2) expect(new Set((await labels()).values()).size).toBe(2);

        h.invalidated.length = 0;
        const replayed = await h.api.services.aliases.recover();
        expect(replayed.map((p) => p.project)).toEqual(claimed && !finished ? ["shop"] : []);
        // the router's cache is told about every label the replay moved
        if (claimed && !finished) expect(new Set(h.invalidated)).toEqual(new Set(LABELS));

        const record = await expectConsistent(`after a crash ${when} write ${k}`);
        // a promotion that was claimed wins on replay; one that never was leaves production alone
        expect(record, `crash ${when} write ${k}`).toBe(claimed ? to : from);
        // nothing is left for a second start to do
        expect(await h.api.services.aliases.recover()).toEqual([]);
      }
    }, 120_000);
  }

  it("a crash during the replay itself is finished by the next one", async () => {
    const to = (await production()) === first ? second : first;
    crashAt(30, "before");
    expect((await h.call("POST", `/v1/deployments/${to}/promote`)).status).toBe(500);
    intercept({ before: (n) => { if (n === 10) throw new Killed(); } });
    await h.api.services.aliases.recover();
    restore();
    expect(await h.metadata.listPendingPromotions()).toHaveLength(1);
    expect((await h.api.services.aliases.recover()).map((p) => p.project)).toEqual(["shop"]);
    expect(await expectConsistent("after two replays")).toBe(to);
  });

  it("a rollback interrupted by a crash is finished too, with its history", async () => {
    const before = (await h.metadata.getProject("acc_a", "shop"))!;
    const back = before.productionHistory![0]!;
    crashAt(20, "before");
    expect((await h.call("POST", "/v1/projects/shop/rollback")).status).toBe(500);
    restore();
    await h.api.services.aliases.recover();
    expect(await expectConsistent("after a rolled-back crash")).toBe(back);
    expect((await h.metadata.getProject("acc_a", "shop"))!.productionHistory).toEqual(before.productionHistory!.slice(1));
  });

  it("an older promotion still running when a newer one finishes changes nothing", async () => {
    const from = await production();
    const to = from === first ? second : first;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let paused!: () => void;
    const atGate = new Promise<void>((r) => (paused = r));
    // the older promotion (to `to`) stops after 10 labels, until the newer (back to `from`) is done
    let holding = true;
    intercept({
      before: async (n) => {
        if (holding && n === 11) {
          holding = false;
          paused();
          await gate;
        }
      },
    });
    const older = h.call("POST", `/v1/deployments/${to}/promote`);
    await atGate;
    restore();
    const newer = await h.call("POST", `/v1/deployments/${from}/promote`);
    expect(newer.status).toBe(200);
    release();
    const r = await older;
    expect(r.status).toBe(409);
    expect((await r.json()).error.code).toBe("conflict");
    expect(await expectConsistent("after the stale promotion ran on")).toBe(from);
  });

  it("an older promotion running on beside a newer one that crashed: the replay makes the newer win", async () => {
    const from = await production();
    const to = from === first ? second : first;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let paused!: () => void;
    const atGate = new Promise<void>((r) => (paused = r));
    let holding = true;
    intercept({
      before: async (n) => {
        if (holding && n === 6) {
          holding = false;
          paused();
          await gate;
        }
      },
    });
    const older = h.call("POST", `/v1/deployments/${from}/promote`);
    await atGate;
    // the newer one (to `to`) claims, moves 40 labels and dies
    crashAt(41, "before");
    expect((await h.call("POST", `/v1/deployments/${to}/promote`)).status).toBe(500);
    restore();
    release();
    expect((await older).status).toBe(409);
    expect((await h.metadata.getProject("acc_a", "shop"))!.promotion?.deploymentId).toBe(to);
    await h.api.services.aliases.recover();
    expect(await expectConsistent("after the replay")).toBe(to);
  });

  it("refuses to remove a deployment any alias names, production included, and it keeps its names", async () => {
    const prod = await production();
    const r = await h.call("DELETE", `/v1/deployments/${prod}`);
    expect(r.status).toBe(409);
    const err = (await r.json()).error;
    expect(err.code).toBe("deployment_in_use");
    expect(err.aliases).toHaveLength(61);
    expect(err.message).toMatch(/^dpl_\w+ still serves 61 aliases shop, shop-0, /);
    expect(err.message).toMatch(/and 51 more; promote another deployment \(ferry promote <deployment>\) or remove the aliases \(ferry alias rm <alias>\) first/);
    await expectConsistent("after a refused removal");
    expect((await h.metadata.getDeployment(prod!))!.removedAt).toBeUndefined();
    expect(await h.metadata.getHost((await h.metadata.getDeployment(prod!))!.host)).not.toBeNull();

    // an alias on a deployment that is not production
    const side = await (await h.call("POST", "/v1/deployments", { json: { files: await h.upload({ "index.html": "side" }), name: "side" } })).json();
    await h.waitFor(side.id);
    expect((await h.call("POST", "/v1/aliases", { json: { deployment: side.id, alias: "side-live" } })).status).toBe(201);
    const s = await h.call("DELETE", `/v1/deployments/${side.id}`);
    expect(s.status).toBe(409);
    expect((await s.json()).error).toMatchObject({ code: "deployment_in_use", aliases: ["side-live"] });
    expect((await h.metadata.getHost("side-live"))?.deploymentId).toBe(side.id);
    // once nothing names it, it goes
    expect((await h.call("DELETE", "/v1/aliases/side-live")).status).toBe(200);
    expect((await h.call("DELETE", `/v1/deployments/${side.id}`)).status).toBe(200);
  });

  it("refuses to remove the deployment an unfinished promotion moves labels to", async () => {
    const from = await production();
    const to = from === first ? second : first;
    // claimed, then the crash: no label names `to` yet
    crashAt(1, "before");
    expect((await h.call("POST", `/v1/deployments/${to}/promote`)).status).toBe(500);
    restore();
    const r = await h.call("DELETE", `/v1/deployments/${to}`);
    expect(r.status).toBe(409);
    expect((await r.json()).error.code).toBe("deployment_in_use");
    await h.api.services.aliases.recover();
    expect(await expectConsistent("after the replay")).toBe(to);
  });

  it("a promotion or alias that starts while a removal is deciding backs off", async () => {
    const from = await production();
    const to = from === first ? second : first;
    // what a removal writes before it looks for aliases
    await h.metadata.markRemoving(to, true);
    const p = await h.call("POST", `/v1/deployments/${to}/promote`);
    expect(p.status).toBe(409);
    expect((await p.json()).error.code).toBe("deployment_removed");
    expect(await expectConsistent("after a promotion that backed off")).toBe(from);

    await h.metadata.markRemoving(to, false);

    // an alias set whose write lands just as a removal marks the deployment: the name is given
    // back as it was (an existing alias) or goes (a new one)
    const setAlias = h.metadata.setAlias;
    h.metadata.setAlias = async (rec) => {
      const previous = await setAlias.call(h.metadata, rec);
      await h.metadata.markRemoving(to, true);
      return previous;
    };
    try {
      const before = await h.metadata.getHost("shop-7");
      const a = await h.call("POST", "/v1/aliases", { json: { deployment: to, alias: "shop-7" } });
      expect(a.status).toBe(409);
      expect(await h.metadata.getHost("shop-7")).toEqual(before);
      const n = await h.call("POST", "/v1/aliases", { json: { deployment: to, alias: "brand-new" } });
      expect(n.status).toBe(409);
      expect(await h.metadata.getHost("brand-new")).toBeNull();
    } finally {
      h.metadata.setAlias = setAlias;
      await h.metadata.markRemoving(to, false);
    }
    await expectConsistent("after alias sets that backed off");
  });
});
