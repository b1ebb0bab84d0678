import { Hono } from "hono";
import { FerryError } from "../../core/errors.ts";
import type { Metadata } from "../../core/metadata/repository.ts";
import type { ApiEnv } from "../types.ts";
import { jsonBody } from "../access.ts";
import { tokenBodySchema } from "../bodies.ts";
import { covers, createToken } from "../services/tokens.ts";

/**
 * /v1/tokens — create scoped tokens for scripts and CI; the secret is shown once. A token never
 * creates, sees or revokes a token broader than itself (scope `tokens`, enforced in access.ts).
 */
export function tokenRoutes(metadata: Metadata) {
  const app = new Hono<ApiEnv>();
  const visible = async (auth: { accountId: string; scopes: string[] }) =>
    (await metadata.listTokens(auth.accountId)).filter((t) => covers(auth.scopes, t.scopes));

  app.get("/", async (c) => {
    const tokens = await visible(c.get("auth"));
    return c.json({ tokens: tokens.map(({ hash: _hash, ...t }) => t).sort((a, b) => a.createdAt - b.createdAt) });
  });
  app.post("/", async (c) => {
    const auth = c.get("auth");
    const body = jsonBody(c, tokenBodySchema);
    const scopes = body.scopes ? [...new Set(body.scopes)] : auth.scopes;
    if (!covers(auth.scopes, scopes)) {
      const missing = scopes.filter((s) => !covers(auth.scopes, [s]));
      throw new FerryError("forbidden", `this token cannot create a token with ${missing.map((s) => `"${s}"`).join(", ")}: a token only hands out scopes it has (and * only by a * token)`, 403);
    }
    const { token, record } = await createToken(metadata, auth.accountId, body.name ?? "token", scopes);
    const { hash: _hash, ...rest } = record;
    return c.json({ ...rest, token }, 201);
  });
  app.delete("/:id", async (c) => {
    const t = (await visible(c.get("auth"))).find((x) => x.id === c.req.param("id"));
    if (!t) throw new FerryError("token_not_found", `no token ${c.req.param("id")}`, 404);
    await metadata.deleteToken(t.hash);
    return c.json({ id: t.id, removed: true });
  });
  return app;
}
