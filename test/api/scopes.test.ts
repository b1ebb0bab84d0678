import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BuildResult } from "../../core/types.ts";
import { ALL_SCOPES, createToken } from "../../api/services/tokens.ts";
import { apiHarness } from "../helpers/api.ts";

const success: BuildResult = { type: "success", output: { version: 1, functions: [], static: [], routes: {} } };

type Operation = { "x-ferry-scope"?: string; requestBody?: { content?: Record<string, unknown> }; description?: string; summary?: string };

describe("API: token scopes", () => {
  let h: Awaited<ReturnType<typeof apiHarness>>;
  let doc: { paths: Record<string, Record<string, Operation>> };
  const tokenOf: Record<string, string> = {};
  beforeAll(async () => {
    h = await apiHarness(async () => success);
    doc = await (await h.call("GET", "/v1/openapi.json", { token: null })).json();
    for (const s of [...ALL_SCOPES, "*"]) tokenOf[s] = (await createToken(h.metadata, "acc_a", `only-${s}`, [s])).token;
  });
  afterAll(async () => h.end());

  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, op })));

  it("documents the scope of every operation", () => {
    const allowed = new Set<string>([...ALL_SCOPES, "public", "token"]);
    for (const { method, path, op } of operations()) {
      expect(allowed, `${method} ${path}`).toContain(op["x-ferry-scope"]);
      expect(op.description ?? "", `${method} ${path}`).toMatch(/Scope: /);
    }
    expect(doc.paths["/v1/deployments/{idOrHost}/logs"]!.get!["x-ferry-scope"]).toBe("logs");
    expect(doc.paths["/v1/projects"]!.get!["x-ferry-scope"]).toBe("deployments");
    expect(doc.paths["/v1/tokens/{id}"]!.delete!["x-ferry-scope"]).toBe("tokens");
  });

  it("walks every route with a token of each single scope: allowed exactly as documented", async () => {
    const checked: string[] = [];
    for (const { method, path, op } of operations()) {
      const url = path.replace(/\{[A-Za-z]+\}/g, "nope-404");
      const scope = op["x-ferry-scope"]!;
      const json = op.requestBody?.content?.["application/json"] ? {} : undefined;
      const body = path === "/v1/files" ? "x" : undefined;
      for (const held of [...ALL_SCOPES, "*"]) {
        const r = await h.call(method, url, { token: tokenOf[held]!, json, body });
        const text = await r.text();
        const what = `${method} ${path} with a "${held}" token: ${r.status} ${text.slice(0, 200)}`;
        const allowed = scope === "public" || scope === "token" || held === "*" || held === scope;
        if (allowed) expect([401, 403], what).not.toContain(r.status);
        else {
          expect(r.status, what).toBe(403);
          expect(JSON.parse(text).error.code, what).toBe("forbidden");
        }
        checked.push(what);
      }
      if (scope === "public") expect((await h.call(method, url, { token: null, json, body })).status, `${method} ${path}`).not.toBe(401);
      else expect((await h.call(method, url, { token: null, json, body })).status, `${method} ${path}`).toBe(401);
    }
    expect(checked.length).toBeGreaterThan(25 * 7);
  });

  it("a logs token reads a deployment's logs but cannot list projects or deployments", async () => {
    const files = await h.upload({ "index.html": "logs" });
    const d = await (await h.call("POST", "/v1/deployments", { json: { name: "logsapp", files } })).json();
    await h.waitFor(d.id);
    expect((await h.call("GET", `/v1/deployments/${d.id}/logs`, { token: tokenOf.logs })).status).toBe(200);
    expect((await h.call("GET", `/v1/deployments/${d.host}/logs`, { token: tokenOf.logs })).status).toBe(200);
    expect((await h.call("GET", "/v1/projects", { token: tokenOf.logs })).status).toBe(403);
    expect((await h.call("GET", "/v1/deployments", { token: tokenOf.logs })).status).toBe(403);
    expect((await h.call("GET", `/v1/deployments/${d.id}`, { token: tokenOf.logs })).status).toBe(403);
  });

  describe("a token never creates, sees or revokes a token broader than itself", () => {
    it("a tokens token cannot revoke, list or mint a * token", async () => {
      const admin = await createToken(h.metadata, "acc_a", "admin2", ["*"]);
      const narrow = (await createToken(h.metadata, "acc_a", "narrow", ["tokens"])).token;
      const del = await h.call("DELETE", `/v1/tokens/${admin.record.id}`, { token: narrow });
      expect(del.status).toBe(404);
      expect((await h.call("GET", "/v1/whoami", { token: admin.token })).status).toBe(200);

      const listed = (await (await h.call("GET", "/v1/tokens", { token: narrow })).json()).tokens as { id: string; scopes: string[] }[];
      expect(listed.map((t) => t.id)).not.toContain(admin.record.id);
      expect(listed.length).toBeGreaterThan(0);
      for (const t of listed) expect(t.scopes).toEqual(["tokens"]);

      const star = await h.call("POST", "/v1/tokens", { token: narrow, json: { scopes: ["*"] } });
      expect(star.status).toBe(403);
      const wider = await h.call("POST", "/v1/tokens", { token: narrow, json: { scopes: ["tokens", "logs"] } });
      expect(wider.status).toBe(403);
    });

    it("a token without listed scopes gets its creator's scopes, not *", async () => {
      const narrow = (await createToken(h.metadata, "acc_a", "narrow2", ["tokens", "logs"])).token;
      const r = await h.call("POST", "/v1/tokens", { token: narrow, json: { name: "child" } });
      expect(r.status).toBe(201);
      const child = await r.json();
      expect(child.scopes).toEqual(["tokens", "logs"]);
      const all = await (await h.call("POST", "/v1/tokens", { json: {} })).json();
      expect(all.scopes).toEqual(["*"]);
    });

    it("a token may see and revoke tokens whose scopes it holds, itself included", async () => {
      const two = await createToken(h.metadata, "acc_a", "two", ["tokens", "logs"]);
      const logsOnly = await createToken(h.metadata, "acc_a", "logs-only", ["logs"]);
      const envOnly = await createToken(h.metadata, "acc_a", "env-only", ["env"]);
      const ids = ((await (await h.call("GET", "/v1/tokens", { token: two.token })).json()).tokens as { id: string }[]).map((t) => t.id);
      expect(ids).toContain(logsOnly.record.id);
      expect(ids).toContain(two.record.id);
      expect(ids).not.toContain(envOnly.record.id);
      expect((await h.call("DELETE", `/v1/tokens/${envOnly.record.id}`, { token: two.token })).status).toBe(404);
      expect((await h.call("DELETE", `/v1/tokens/${logsOnly.record.id}`, { token: two.token })).status).toBe(200);
      expect((await h.call("GET", "/v1/whoami", { token: logsOnly.token })).status).toBe(401);
      expect((await h.call("DELETE", `/v1/tokens/${two.record.id}`, { token: two.token })).status).toBe(200);
      expect((await h.call("GET", "/v1/whoami", { token: two.token })).status).toBe(401);
    });
  });
});
