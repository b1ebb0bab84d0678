import { Hono } from "hono";
import { FerryError } from "../../core/errors.ts";
import { projectNameProblem } from "../../core/config/schema.ts";
import { createGitRemote } from "../../git/remote.ts";
import type { HookServer } from "../../git/hook-server.ts";
import type { ApiDeps, ApiEnv } from "../types.ts";
import { requireScope, verifyToken, type AuthContext } from "../services/tokens.ts";
import type { gitPushService } from "../services/git-push.ts";
import type { gitSettingsService } from "../services/git-settings.ts";
import type { gitProviderService } from "../services/git-providers.ts";
import { jsonBody } from "../access.ts";
import { readLimited } from "../body.ts";
import { gitSettingsBodySchema } from "../services/git-meta.ts";

/**
 * `/git/<project>.git/...`: the project's git remote (smart HTTP, Basic auth with a token as
 * the password). Outside `/v1` because git, not the API client, speaks here: errors are plain
 * text, which git shows to the user, and a missing or wrong token is a 401 that makes git ask.
 */
export function gitRemoteRoutes(deps: ApiDeps & { git: { root: string; hooks: HookServer } }, pushes: ReturnType<typeof gitPushService>) {
  const remote = createGitRemote<AuthContext>({
    root: deps.git.root,
    hooks: deps.git.hooks,
    authenticate: async (password) => {
      let auth: AuthContext;
      try {
        auth = await verifyToken(deps.metadata, `Bearer ${password}`);
      } catch {
        return null;
      }
      requireScope(auth, "deployments");
      return auth;
    },
    projectProblem: projectNameProblem,
    startPush: (auth, project, repo) => pushes.startPush(auth, project, repo),
    log: (line) => console.error(`[git] ${line}`),
  });
  const app = new Hono<ApiEnv>();
  app.all("/*", async (c) => {
    try {
      return await remote.handle(c.req.raw, c.req.path.slice("/git".length));
    } catch (e) {
      if (e instanceof FerryError) return c.text(`${e.message}\n`, e.status as 403);
      throw e;
    }
  });
  return app;
}

/** `/v1/projects/:name/git`: the production branch and the linked repository. */
export function gitSettingsRoutes(settings: ReturnType<typeof gitSettingsService>) {
  const app = new Hono<ApiEnv>();
  // scopes and bodies: see access.ts
  app.get("/:name/git", async (c) => c.json(await settings.get(c.get("auth"), c.req.param("name"))));
  app.put("/:name/git", async (c) => c.json(await settings.update(c.get("auth"), c.req.param("name"), jsonBody(c, gitSettingsBodySchema))));
  return app;
}

const MAX_WEBHOOK_BODY = 5 * 1024 * 1024;

/** `POST /v1/git/webhooks/<project id>`: no token; the provider's signature is the credential. */
export function gitWebhookRoutes(providers: ReturnType<typeof gitProviderService>) {
  const app = new Hono<ApiEnv>();
  app.post("/:projectId", async (c) => {
    // read whole but bounded (413 before a byte past the limit is kept): the signature covers the raw bytes
    const raw = Buffer.from(await readLimited(c.req.raw, MAX_WEBHOOK_BODY));
    return c.json(await providers.receive(c.req.param("projectId"), raw, c.req.raw.headers), 202);
  });
  return app;
}
