import { z } from "zod";
import { deployBodySchema } from "./services/deploy-request.ts";
import { ferryConfigSchema } from "../core/config/schema.ts";
import { bodyLimitOf, ROUTES, type Access } from "./access.ts";
import type { ApiDeps } from "./types.ts";

// The HTTP API as an OpenAPI 3.1 document, served at GET /v1/openapi.json. JSON request bodies
// come from the zod schemas that validate them, and each operation's scope (`x-ferry-scope`) and
// body limit (`x-ferry-body-limit`) from access.ts, which enforces them; a test checks every
// route is listed and walks them all with a token of each scope.

const schema = (s: z.ZodType) => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { unrepresentable: "any" }) as Record<string, unknown>;
  return rest;
};
const json = (s: Record<string, unknown>) => ({ content: { "application/json": { schema: s } } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const ok = (description: string, s: Record<string, unknown> = { type: "object" }) => ({ description, ...json(s) });
const ndjson = (description: string) => ({ description, content: { "application/x-ndjson": { schema: { type: "string" } } } });
const errors = { "4XX": ok("error", ref("Error")) };
const idParam = { name: "idOrHost", in: "path", required: true, description: "deployment id (dpl_...), host label or URL", schema: { type: "string" } };
const nameParam = { name: "name", in: "path", required: true, description: "project name", schema: { type: "string" } };
const op = (summary: string, responses: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ summary, ...extra, responses: { ...responses, ...errors } });
const body = (s: Record<string, unknown>) => ({ requestBody: { required: true, ...json(s) } });

const SCOPE_TEXT: Record<Access, string> = {
  public: "Scope: none (no token).",
  token: "Scope: any valid token.",
  deployments: "Scope: `deployments`.",
  aliases: "Scope: `aliases`.",
  env: "Scope: `env`.",
  stores: "Scope: `stores`.",
  tokens: "Scope: `tokens`.",
  logs: "Scope: `logs`.",
  webhooks: "Scope: `webhooks`.",
};

type Operation = Record<string, unknown> & { description?: string; responses: Record<string, unknown> };
type Document = ReturnType<typeof baseDocument>;

const DEFAULT_LIMITS: ApiDeps["limits"] = { maxFileSize: 100 * 1024 * 1024, maxFiles: 20_000 };

/** The document with each operation's scope, JSON body schema and body limit filled in from
 * access.ts; throws when a route and the document disagree, so the mismatch fails a test. */
export function openApiDocument(limits: ApiDeps["limits"] = DEFAULT_LIMITS): Document {
  const doc = baseDocument();
  const paths = doc.paths as unknown as Record<string, Record<string, Operation>>;
  const seen = new Set<string>();
  for (const route of ROUTES) {
    const path = route.path.replace(/:([A-Za-z]+)/g, "{$1}");
    const op = paths[path]?.[route.method.toLowerCase()];
    if (!op) throw new Error(`access.ts lists ${route.method} ${route.path}, which the OpenAPI document does not`);
    seen.add(`${route.method} ${path}`);
    op["x-ferry-scope"] = route.access;
    op.description = [op.description, SCOPE_TEXT[route.access]].filter(Boolean).join(" ");
    if (route.body) {
      const limit = bodyLimitOf(route, limits);
      // a body documented by reference (CreateDeployment) keeps it; the others come from their schema
      if (route.body !== deployBodySchema) op.requestBody = { required: true, ...json(schema(route.body)) };
      op["x-ferry-body-limit"] = limit;
      op.description += ` JSON body of at most ${limit} bytes (413 body_too_large); malformed JSON is 400 invalid_json, a wrong or unknown field 400 invalid_request.`;
      op.responses = { ...op.responses, 413: ok("body_too_large", ref("Error")) };
    }
    if (path === "/v1/files") {
      op["x-ferry-body-limit"] = limits.maxFileSize;
      op.description += ` At most ${limits.maxFileSize} bytes (413 file_too_large), streamed to the blob store.`;
    }
    if (path === "/v1/files/batch") {
      op["x-ferry-file-limit"] = limits.maxFileSize;
      op.description += ` Each file at most ${limits.maxFileSize} bytes (413 file_too_large naming its frame), at most ${limits.maxFiles} files a batch; the body is streamed, each file to the blob store as it arrives.`;
    }
  }
  for (const [path, ops] of Object.entries(paths)) {
    for (const method of Object.keys(ops)) {
      if (!seen.has(`${method.toUpperCase()} ${path}`)) throw new Error(`the OpenAPI document lists ${method.toUpperCase()} ${path}, which access.ts does not`);
    }
  }
  return doc;
}

function baseDocument() {
  return {
    openapi: "3.1.0",
    info: { title: "Ferry API", version: "1", description: "Deploy apps, move aliases, manage env vars, stores and tokens. Every route but health and this document needs `Authorization: Bearer <token>`; each operation's `x-ferry-scope` names the scope its token needs (`*` holds them all, `token` means any token). Errors are `{ error: { code, message } }`; an unexpected one is 500 internal_error with a `requestId` to find it in the platform log." },
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: {
        Error: { type: "object", required: ["error"], properties: { error: { type: "object", required: ["code", "message"], properties: { code: { type: "string" }, message: { type: "string" } }, additionalProperties: true } } },
        Deployment: {
          type: "object",
          properties: {
            id: { type: "string" }, url: { type: "string" }, host: { type: "string" }, project: { type: "string" },
            state: { enum: ["QUEUED", "BUILDING", "READY", "ERROR", "CANCELED"] }, target: { enum: ["production", "preview"] },
            aliases: { type: "array", items: { type: "string" } }, errorCode: { type: "string" }, errorMessage: { type: "string" },
            createdAt: { type: "number" }, readyAt: { type: "number" }, reusedFrom: { type: "string" },
          },
        },
        ProjectCrons: {
          type: "object",
          properties: {
            project: { type: "string" }, deploymentId: { type: ["string", "null"], description: "the production deployment; null when there is none" },
            crons: {
              type: "array",
              items: {
                type: "object",
                properties: {
                  path: { type: "string" }, schedule: { type: "string", description: "five fields, UTC" },
                  nextRunAt: { type: ["number", "null"], description: "epoch ms" },
                  lastRun: { type: ["object", "null"], properties: { at: { type: "number" }, status: { type: ["number", "null"] }, durationMs: { type: "number" }, deploymentId: { type: "string" }, error: { type: "string" } } },
                  lastSkippedAt: { type: ["number", "null"], description: "the last run skipped because the previous one was still running" },
                },
              },
            },
          },
        },
        CreateDeployment: schema(deployBodySchema),
        FerryConfig: schema(ferryConfigSchema),
      },
    },
    paths: {
      "/v1/health": { get: op("Liveness (no token)", { 200: ok("ok") }, { security: [] }) },
      "/v1/openapi.json": { get: op("This document (no token)", { 200: ok("OpenAPI document") }, { security: [] }) },
      "/v1/whoami": { get: op("The token's account and scopes", { 200: ok("who") }) },
      "/v1/files": {
        post: op("Upload one file (raw body); the server recomputes the SHA-1", { 200: ok("already stored"), 201: ok("stored") }, {
          parameters: [{ name: "x-ferry-digest", in: "header", required: true, schema: { type: "string", pattern: "^[0-9a-f]{40}$" } }],
          requestBody: { required: true, content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } } },
        }),
        put: op("Same as POST", { 200: ok("already stored"), 201: ok("stored") }, {
          parameters: [{ name: "x-ferry-digest", in: "header", required: true, schema: { type: "string", pattern: "^[0-9a-f]{40}$" } }],
          requestBody: { required: true, content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } } },
        }),
      },
      "/v1/files/batch": {
        post: op("Upload many files in one request; each is checked, deduplicated and stored on its own", {
          200: ok("every file stored or already there, in frame order", { type: "object", required: ["files"], properties: { files: { type: "array", items: { type: "object", required: ["sha", "size", "existed"], properties: { sha: { type: "string" }, size: { type: "integer" }, existed: { type: "boolean" } } } } } }),
          400: ok("digest_mismatch: `failed` lists the files whose bytes did not hash to their digest (nothing of them was stored; the others were) and `files` every file's result; invalid_batch: a frame could not be read, named with its number and byte offset", ref("Error")),
        }, {
          description: "The body is one frame per file: `<sha1 as 40 lower-case hex> <size in bytes>\\n` followed by exactly that many bytes, frame after frame to the end of the body (`content-type: application/x-ferry-batch`). Files of a mismatched digest are refused one by one; a frame that cannot be read ends the request, keeping the files before it.",
          requestBody: { required: true, content: { "application/x-ferry-batch": { schema: { type: "string", format: "binary" } } } },
        }),
      },
      "/v1/deployments": {
        get: op("List deployments, newest first", { 200: ok("deployments", { type: "object", properties: { deployments: { type: "array", items: ref("Deployment") } } }) }, {
          parameters: [{ name: "project", in: "query", schema: { type: "string" } }, { name: "limit", in: "query", schema: { type: "integer", maximum: 100 } }],
        }),
        post: op("Create a deployment; 400 missing_files lists the shas to upload first", { 201: ok("created", ref("Deployment")) }, {
          description: "Each file is a regular file (`mode` 0o100000 plus permission bits; default 0o100644) at a relative, normal path of at most 1024 bytes whose segments are 1-255 bytes and not `.` or `..`; a broken rule is 400 invalid_file_list naming the `file` and the `rule`. A production deploy whose `<project>` or ferry.json aliases are another deployment's host or another account's name is 409 production_alias_taken.",
          ...body(ref("CreateDeployment")),
        }),
      },
      "/v1/deployments/{idOrHost}": {
        get: op("Get a deployment", { 200: ok("deployment", ref("Deployment")) }, { parameters: [idParam] }),
        delete: op("Remove a deployment (cancels a running build); data stores are kept", { 200: ok("removed") }, { parameters: [idParam] }),
      },
      "/v1/deployments/{idOrHost}/cancel": { post: op("Cancel a queued or running build", { 200: ok("deployment", ref("Deployment")) }, { parameters: [idParam] }) },
      "/v1/deployments/{idOrHost}/promote": { post: op("Make it the production deployment", { 200: ok("promoted") }, { parameters: [idParam] }) },
      "/v1/deployments/{idOrHost}/events": {
        get: op("Build log and state changes", { 200: ndjson("one event per line") }, { parameters: [idParam, { name: "follow", in: "query", schema: { type: "boolean" } }] }),
      },
      "/v1/deployments/{idOrHost}/logs": {
        get: op("Runtime logs: function output and one line per request", { 200: ndjson("one entry per line") }, {
          parameters: [idParam, { name: "follow", in: "query", schema: { type: "boolean" } }, { name: "since", in: "query", schema: { type: "string" } }, { name: "limit", in: "query", schema: { type: "integer" } }],
        }),
      },
      "/v1/aliases": {
        get: op("List aliases", { 200: ok("aliases") }),
        post: op("Point an alias at a READY deployment", { 201: ok("alias") }, body({ type: "object", required: ["alias", "deployment"], properties: { alias: { type: "string" }, deployment: { type: "string" } } })),
      },
      "/v1/aliases/{alias}": { delete: op("Remove an alias", { 200: ok("removed") }, { parameters: [{ name: "alias", in: "path", required: true, schema: { type: "string" } }] }) },
      "/v1/projects": { get: op("List projects", { 200: ok("projects") }) },
      "/v1/projects/{name}/rollback": { post: op("Point production back at the previous production deployment", { 200: ok("rolled back") }, { parameters: [nameParam] }) },
      "/v1/projects/{name}/env": {
        get: op("List env vars; `decrypt=1` adds values of non-sensitive ones", { 200: ok("env") }, {
          parameters: [nameParam, { name: "environment", in: "query", schema: { enum: ["production", "preview"] } }, { name: "decrypt", in: "query", schema: { type: "boolean" } }],
        }),
        post: op("Add or replace an env var", { 201: ok("added") }, {
          parameters: [nameParam],
          ...body({ type: "object", required: ["key", "value"], properties: { key: { type: "string" }, value: { type: "string" }, environment: { oneOf: [{ enum: ["production", "preview"] }, { type: "array", items: { enum: ["production", "preview"] } }] }, sensitive: { type: "boolean" } } }),
        }),
      },
      "/v1/projects/{name}/env/{key}": {
        delete: op("Remove an env var", { 200: ok("removed") }, { parameters: [nameParam, { name: "key", in: "path", required: true, schema: { type: "string" } }, { name: "environment", in: "query", schema: { enum: ["production", "preview"] } }] }),
      },
      "/v1/projects/{name}/crons": {
        get: op("The production deployment's crons (vercel.json `crons`): path, schedule, next run and last run (time, status, duration)", { 200: ok("crons", ref("ProjectCrons")) }, { parameters: [nameParam] }),
      },
      "/v1/stores": { get: op("List provisioned data stores with their size", { 200: ok("stores") }, { parameters: [{ name: "project", in: "query", schema: { type: "string" } }] }) },
      "/v1/stores/{project}/{name}": {
        delete: op("Delete a store and all its data", { 200: ok("deleted") }, {
          parameters: [{ name: "project", in: "path", required: true, schema: { type: "string" } }, { name: "name", in: "path", required: true, schema: { type: "string" } }, { name: "environment", in: "query", required: true, schema: { enum: ["production", "preview"] } }],
        }),
      },
      "/v1/tokens": {
        get: op("List tokens (never their secrets)", { 200: ok("tokens") }),
        post: op("Create a token; its secret is returned once", { 201: ok("token") }, body({ type: "object", properties: { name: { type: "string" }, scopes: { type: "array", items: { type: "string" } } } })),
      },
      "/v1/tokens/{id}": { delete: op("Revoke a token", { 200: ok("revoked") }, { parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }] }) },
      "/v1/projects/{name}/git": {
        get: op("The project's git settings: remote path, production branch, linked repository", { 200: ok("git settings") }, { parameters: [nameParam] }),
        put: op("Set the production branch and/or link a repository (`linkedUrl`, null unlinks); linking returns the provider webhook secret once", { 200: ok("git settings") }, { parameters: [nameParam] }),
      },
      "/v1/projects/{name}/deploy-hooks": {
        get: op("List the project's deploy hooks (never their URLs)", { 200: ok("deploy hooks") }, { parameters: [nameParam] }),
        post: op("Make a deploy hook `{ name, ref }`; its secret `url` is returned once", { 201: ok("deploy hook") }, { parameters: [nameParam] }),
      },
      "/v1/projects/{name}/deploy-hooks/{id}": { delete: op("Remove a deploy hook", { 200: ok("removed") }, { parameters: [nameParam, { name: "id", in: "path", required: true, schema: { type: "string" } }] }) },
      "/v1/webhooks": {
        get: op("List the account's outgoing webhooks", { 200: ok("webhooks") }),
        post: op("Add a webhook `{ url, events }`; its signing `secret` is returned once. Deliveries are JSON POSTs `{ id, type, createdAt, payload }` with X-Ferry-Event, X-Ferry-Delivery and X-Ferry-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>", { 201: ok("webhook") }),
      },
      "/v1/webhooks/{id}": { delete: op("Remove a webhook", { 200: ok("removed") }, { parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }] }) },
      "/v1/webhooks/{id}/deliveries": { get: op("A webhook's deliveries, newest first, with every attempt's status and latency", { 200: ok("deliveries") }, { parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }] }) },
      "/v1/webhooks/{id}/deliveries/{delivery}/redeliver": {
        post: op("Send a delivery's event again, as a new delivery", { 201: ok("delivery") }, { parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }, { name: "delivery", in: "path", required: true, schema: { type: "string" } }] }),
      },
      "/v1/git/webhooks/{projectId}": {
        post: op("A git provider's webhook for a linked project (no token): verified by X-Hub-Signature-256 (GitHub, Gitea), X-Gitea-Signature or X-Gitlab-Token against the project's secret; a push deploys the branch fetched from the linked URL, a pull request gets a preview removed when it closes", { 202: ok("accepted") }, { security: [], parameters: [{ name: "projectId", in: "path", required: true, schema: { type: "string" } }] }),
      },
      "/v1/deploy-hooks/{secret}": {
        post: op("Run a deploy hook (no token: the secret is the credential): deploys the latest commit of its ref; answers `{ job: { id, state } }`", { 201: ok("job") }, { security: [], parameters: [{ name: "secret", in: "path", required: true, schema: { type: "string" } }] }),
      },
    },
  };
}
