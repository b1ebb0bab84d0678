import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BuildResult } from "../../core/types.ts";
import { createApi } from "../../api/app.ts";
import { createBuildLogs } from "../../api/services/build-logs.ts";
import { createBuildRunner } from "../../api/services/builds.ts";
import { apiHarness } from "../helpers/api.ts";

const success: BuildResult = { type: "success", output: { version: 1, functions: [], static: [], routes: {} } };

describe("API: builds, logs, aliases, promotion, rollback", () => {
  let h: Awaited<ReturnType<typeof apiHarness>>;
  let release: (() => void) | undefined;
  beforeAll(async () => {
    h = await apiHarness(async (req, { onLog, signal }) => {
      onLog(`building ${req.files.length} files`);
      const marker = req.files.find((f) => f.file === "mode.txt");
      if (!marker) return success;
      const mode = (await h.blobs.get(`files/${req.accountId}/${marker.sha}`))!.toString();
      if (mode === "fail") return { type: "error", errors: [{ message: 'Expected ";" but found "}"', file: "api/hi.ts", line: 3, column: 10 }] };
      if (mode === "hang") {
        await new Promise<void>((resolve) => {
          release = resolve;
          signal.addEventListener("abort", () => resolve());
        });
        return success;
      }
      return success;
    });
  });
  afterAll(async () => h.end());

  const deploy = async (files: Record<string, string>, extra: Record<string, unknown> = {}) => {
    const list = await h.upload(files);
    const r = await h.call("POST", "/v1/deployments", { json: { name: "app", files: list, ...extra } });
    expect(r.status).toBe(201);
    return r.json() as Promise<Record<string, any>>;
  };

  it("ends a failing build in ERROR with the builder's message, file and line", async () => {
    const d = await deploy({ "mode.txt": "fail" });
    const done = await h.waitFor(d.id);
    expect(done.state).toBe("ERROR");
    expect(done.errorMessage).toBe('api/hi.ts:3:10: Expected ";" but found "}"');
  });

  it("replays timestamped build events, ending with the final state", async () => {
    const d = await deploy({ "index.html": "logs", "extra.txt": "x" });
    await h.waitFor(d.id);
    await new Promise((r) => setTimeout(r, 50));
    const text = await (await h.call("GET", `/v1/deployments/${d.id}/events`)).text();
    const events = text.trim().split("\n").map((l) => JSON.parse(l));
    expect(events.some((e) => e.type === "log" && e.text === "building 2 files")).toBe(true);
    expect(events.every((e) => typeof e.ts === "number")).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: "state", state: "READY" });
  });

  it("follows a live build until it finishes, and cancel stops it", async () => {
    const d = await deploy({ "mode.txt": "hang" });
    const res = await h.call("GET", `/v1/deployments/${d.id}/events?follow=1`);
    await new Promise((r) => setTimeout(r, 100));
    expect((await h.call("POST", `/v1/deployments/${d.id}/cancel`)).status).toBe(200);
    const events = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
    expect(events.at(-1)).toMatchObject({ type: "state", state: "CANCELED" });
    expect((await h.waitFor(d.id)).state).toBe("CANCELED");
    release?.();
  });

  it("follows a build that runs in another process (as on AWS): its stored log lines as they are flushed, then its final state", async () => {
    // a second API over the same table and bucket that runs no builds itself
    const elsewhere = createBuildLogs(h.blobs);
    const runner = createBuildRunner({ metadata: h.metadata, blobs: h.blobs, logs: elsewhere, execute: async () => ({ type: "error", errors: [{ message: "not here" }] }), decrypt: (c) => h.encryptor.decrypt(c), link: async (d) => d, onReady: async () => {} });
    const other = createApi({ metadata: h.metadata, blobs: h.blobs, encryptor: h.encryptor, logs: h.logs, builds: runner, buildLogs: elsewhere, domain: "ferry.test", urlFor: (l) => `http://${l}.ferry.test`, limits: { maxFileSize: 1024, maxFiles: 10 } });
    const d = await deploy({ "mode.txt": "hang" });
    const res = await other.app.request(`/v1/deployments/${d.id}/events?follow=1`, { headers: { authorization: `Bearer ${h.tokenA}` } });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    // the log line arrives while the build still runs: the builder's process flushed it
    while (!seen.includes("building 1 files")) seen += (await reader.read()).value ?? "";
    expect((await h.metadata.getDeployment(d.id))!.state).toBe("BUILDING");
    release?.();
    for (let r = await reader.read(); !r.done; r = await reader.read()) seen += r.value;
    const events = seen.trim().split("\n").map((l) => JSON.parse(l));
    expect(events.filter((e) => e.type === "log" && e.text === "building 1 files")).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ type: "state", state: "READY" });
    expect((await h.waitFor(d.id)).state).toBe("READY");
  });

  it("assigns <project> on a production deploy, then promotes and rolls back", async () => {
    const one = await deploy({ "index.html": "v1" }, { target: "production" });
    expect((await h.waitFor(one.id)).aliases).toEqual(["http://app.ferry.test"]);
    const two = await deploy({ "index.html": "v2" }, { target: "production" });
    await h.waitFor(two.id);
    expect((await h.metadata.getHost("app"))?.deploymentId).toBe(two.id);
    expect(h.invalidated).toContain("app");

    const back = await (await h.call("POST", "/v1/projects/app/rollback")).json();
    expect(back.deploymentId).toBe(one.id);
    expect((await h.metadata.getHost("app"))?.deploymentId).toBe(one.id);
    const again = await h.call("POST", "/v1/projects/app/rollback");
    expect(again.status).toBe(409);
    expect((await again.json()).error.code).toBe("no_previous_deployment");

    const promoted = await (await h.call("POST", `/v1/deployments/${two.id}/promote`)).json();
    expect(promoted.previous).toBe(one.id);
    expect((await h.metadata.getHost("app"))?.deploymentId).toBe(two.id);
  });

  it("sets, lists and removes aliases; rejects bad names and other accounts' names", async () => {
    const d = await deploy({ "index.html": "alias me" });
    await h.waitFor(d.id);
    const set = await h.call("POST", "/v1/aliases", { json: { deployment: d.id, alias: "staging.ferry.test" } });
    expect(set.status).toBe(201);
    expect((await set.json()).alias).toBe("staging");
    const ls = await (await h.call("GET", "/v1/aliases")).json();
    expect(ls.aliases).toContainEqual(expect.objectContaining({ alias: "staging", deploymentId: d.id }));

    const bad = await h.call("POST", "/v1/aliases", { json: { deployment: d.id, alias: "Not Valid!" } });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe("invalid_alias");
    // nothing is cut away to make a name fit: each of these is refused, and no alias appears
    const names = async () => ((await (await h.call("GET", "/v1/aliases")).json()).aliases as { alias: string }[]).map((a) => a.alias).sort();
    const before = await names();
    for (const alias of ["atk/../x", "name:1234", "http://atk.ferry.test/../x", "http://u@atk.ferry.test/", "xn--zca", "ab--cd", "a".repeat(64), "-lead", "trail-"]) {
      const r = await h.call("POST", "/v1/aliases", { json: { deployment: d.id, alias } });
      expect(r.status, alias).toBe(400);
      expect((await r.json()).error.code, alias).toBe("invalid_alias");
    }
    expect(await names()).toEqual(before);
    // a URL that names only a host is a fine way to say it
    const url = await h.call("POST", "/v1/aliases", { json: { deployment: d.id, alias: "http://from-url.ferry.test:3001/" } });
    expect((await url.json()).alias).toBe("from-url");
    expect((await h.call("DELETE", "/v1/aliases/from-url")).status).toBe(200);

    const other = await h.upload({ "index.html": "b" }, h.tokenB);
    const db = await (await h.call("POST", "/v1/deployments", { token: h.tokenB, json: { name: "bapp", files: other } })).json();
    await h.waitFor(db.id, h.tokenB);
    const steal = await h.call("POST", "/v1/aliases", { token: h.tokenB, json: { deployment: db.id, alias: "staging" } });
    expect(steal.status).toBe(409);
    // B cannot alias A's deployment either
    expect((await h.call("POST", "/v1/aliases", { token: h.tokenB, json: { deployment: d.id, alias: "mine" } })).status).toBe(404);

    expect((await h.call("DELETE", "/v1/aliases/staging")).status).toBe(200);
    expect(await h.metadata.getHost("staging")).toBeNull();
    expect((await h.call("DELETE", "/v1/aliases/staging")).status).toBe(404);
  });

  it("removes a deployment so its host stops resolving, but not production", async () => {
    const d = await deploy({ "index.html": "remove me" });
    await h.waitFor(d.id);
    expect((await h.call("DELETE", `/v1/deployments/${d.id}`)).status).toBe(200);
    expect(await h.metadata.getHost(d.host)).toBeNull();
    const prod = (await h.metadata.getProject("acc_a", "app"))!.productionDeploymentId!;
    const r = await h.call("DELETE", `/v1/deployments/${prod}`);
    expect(r.status).toBe(409);
  });
});
