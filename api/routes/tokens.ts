import { Hono } from "hono";
import { FerryError } from "../../core/errors.ts";
import type { Metadata } from "../../core/metadata/repository.ts";
import type { ApiEnv } from "../types.ts";
import { ALL_SCOPES, createToken, requireScope } from "../services/tokens.ts";

/** /v1/tokens — create scoped tokens for scripts and CI; the secret is shown once. */
export function tokenRoutes(metadata: Metadata) {
  const app = new Hono<ApiEnv>();
  app.use("*", async (c, next) => {
    requireScope(c.get("auth"), "tokens");
    await next();
  });
  app.get("/", async (c) => {
    const tokens = await metadata.listTokens(c.get("auth").accountId);
    return c.json({ tokens: tokens.map(({ hash: _hash, ...t }) => t).sort((a, b) => a.createdAt - b.createdAt) });
  });
  app.post("/", async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as { name?: unknown; scopes?: unknown };
    const name = typeof body.name === "string" && body.name.trim() ? body.name.trim().slice(0, 100) : "token";
    const scopes = body.scopes === undefined ? ["*"] : body.scopes;
    if (!Array.isArray(scopes) || !scopes.length || scopes.some((s) => s !== "*" && !(ALL_SCOPES as readonly string[]).includes(s))) {
      throw new FerryError("invalid_scopes", `scopes must be a non-empty list of: *, ${ALL_SCOPES.join(", ")}`, 400);
    }
    // a token can only hand out what it has itself
    for (const s of scopes as string[]) requireScope(c.get("auth"), s);
    const { token, record } = await createToken(metadata, c.get("auth").accountId, name, scopes as string[]);
    const { hash: _hash, ...rest } = record;
    return c.json({ ...rest, token }, 201);
  });
  app.delete("/:id", async (c) => {
    const tokens = await metadata.listTokens(c.get("auth").accountId);
    const t = tokens.find((x) => x.id === c.req.param("id"));
    if (!t) throw new FerryError("token_not_found", `no token ${c.req.param("id")}`, 404);
    await metadata.deleteToken(t.hash);
    return c.json({ id: t.id, removed: true });
  });
  return app;
}
