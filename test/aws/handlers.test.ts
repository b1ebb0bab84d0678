// The stack's API and router handlers (cdk/handlers/) run in process, wired from their
// environment exactly as on Lambda, with the AWS endpoints pointed at local stand-ins through the
// SDK's own AWS_ENDPOINT_URL_<SERVICE> variables: dynalite for DynamoDB, s3rver for S3, and for
// Lambda a loopback InvokeWithResponseStream that runs functions from their unpacked zips
// (helpers/local-lambda.ts). Events are function URL events; answers are read from the response
// stream in Lambda's HTTP integration format, as the function URL would.
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createToken } from "../../api/services/tokens.ts";
import { blobKeys } from "../../core/blobs/port.ts";
import { createS3BlobStore } from "../../core/blobs/s3.ts";
import { sha1 } from "../../core/ids.ts";
import { createMetadata } from "../../core/metadata/repository.ts";
import { createDocClient, ensureTable } from "../../core/metadata/table.ts";
import type { BuildOutput, BuiltFunction, Deployment } from "../../core/types.ts";
import { requestToEvent } from "../../runtime/lambda/event.ts";
import { manifestKey } from "../../runtime/lambda/host.ts";
import { functionName } from "../../runtime/lambda/names.ts";
import { packageFunction } from "../../runtime/lambda/package.ts";
import { localAwsConfig, startDynalite } from "../../server/services/dynalite.ts";
import { startS3rver } from "../../server/services/s3rver.ts";
import { startLocalLambda } from "./helpers/local-lambda.ts";
// @ts-expect-error plain .mjs without types
import { asResponseStream, awslambdaGlobal } from "./helpers/runtime-client.mjs";

type Handler = (event: unknown, stream: unknown, context: unknown) => Promise<void>;
const FN_URL = "https://abcdefghijklmnopqrstuvwxyz123456.lambda-url.us-east-1.on.aws";
const NODE_FN = `export default function handler(req, res) { res.setHeader("set-cookie", "seen=1"); res.status(200).json({ hello: req.query.name, env: process.env.FERRY_DEPLOYMENT_ID ?? null, host: req.headers["x-forwarded-host"] }); }`;

/** One request through a streaming handler: status, headers, cookies and body as the URL sends them. */
async function call(handler: Handler, request: Request) {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on("data", (c: Buffer) => chunks.push(c));
  await handler(await requestToEvent(request), asResponseStream(sink), { awsRequestId: "req-1" });
  const bytes = Buffer.concat(chunks);
  const at = bytes.indexOf(Buffer.alloc(8));
  const prelude = JSON.parse(bytes.subarray(0, at).toString("utf8")) as { statusCode: number; headers: Record<string, string>; cookies: string[] };
  return { ...prelude, body: bytes.subarray(at + 8).toString("utf8") };
}

describe("the API and router handlers against local stand-ins", () => {
  let dir: string;
  let stops: (() => Promise<unknown>)[] = [];
  let api: Handler;
  let router: Handler;
  let token: string;
  let lambda: Awaited<ReturnType<typeof startLocalLambda>>;
  let blobs: ReturnType<typeof createS3BlobStore>;
  const d: Deployment = {
    id: "dpl_handlers0000001",
    accountId: "acc_h",
    projectId: "prj_h",
    project: "shop",
    host: "shop-abc123",
    state: "READY",
    target: "preview",
    fileCount: 2,
    config: {},
    inputHash: "x",
    outputKey: blobKeys.output("dpl_handlers0000001"),
    createdAt: 1,
    updatedAt: 1,
    readyAt: 1,
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ferry-handlers-"));
    const dyn = await startDynalite();
    const s3 = await startS3rver({ directory: join(dir, "s3"), buckets: ["ferry-blobs"] });
    lambda = await startLocalLambda();
    stops = [() => lambda.close(), () => s3.end(), () => dyn.end()];
    Object.assign(process.env, {
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
      AWS_ENDPOINT_URL_DYNAMODB: dyn.endpoint,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
      AWS_ENDPOINT_URL_IAM: "http://127.0.0.1:9", // nothing here may touch IAM
      FERRY_TABLE: "ferry",
      FERRY_BUCKET: "ferry-blobs",
      FERRY_KMS_KEY: "alias/ferry-test",
      FERRY_DOMAIN: "apps.example.com",
      FERRY_ACCOUNT_ID: "123456789012",
      FERRY_STACK: "FerryPlatform",
      FERRY_BUILDS_FUNCTION: "ferry-builds",
    });
    // what Lambda's Node runtime gives handler modules before it imports them
    (globalThis as { awslambda?: unknown }).awslambda = awslambdaGlobal();

    const doc = createDocClient(localAwsConfig(dyn.endpoint));
    await ensureTable(doc, "ferry");
    const metadata = createMetadata(doc, "ferry");
    await metadata.putAccount({ id: d.accountId, name: "h", createdAt: 1 });
    token = (await createToken(metadata, d.accountId, "h")).token;
    await metadata.ensureProject({ id: d.projectId, accountId: d.accountId, name: d.project, createdAt: 1 });
    await metadata.createDeployment(d);
    await metadata.claimHost({ host: d.host, accountId: d.accountId, projectId: d.projectId, deploymentId: d.id, type: "deployment", updatedAt: 1 });

    // a stored build output: one static file, one function, and the function's Lambda
    blobs = createS3BlobStore(new S3Client({ ...localAwsConfig(s3.endpoint), forcePathStyle: true, requestChecksumCalculation: "WHEN_REQUIRED" }), "ferry-blobs");
    const html = "<h1>static from S3</h1>";
    await blobs.put(`files/${d.accountId}/${sha1(html)}`, html);
    const fn: BuiltFunction = {
      name: "api/hello",
      route: "/api/hello",
      source: "api/hello.js",
      handler: "function",
      artifact: { prefix: blobKeys.artifactPrefix(d.id, "api/hello"), entry: "index.mjs", files: ["index.mjs"], dir: "api" },
      config: { memory: 256, maxDuration: 10, maxConcurrency: 10 },
    };
    await blobs.put(`${fn.artifact.prefix}/index.mjs`, NODE_FN);
    const output: BuildOutput = {
      version: 1,
      functions: [fn],
      static: [{ path: "index.html", key: `files/${d.accountId}/${sha1(html)}`, sha: sha1(html), size: html.length, contentType: "text/html; charset=utf-8" }],
      routes: {},
    } as BuildOutput;
    await blobs.put(blobKeys.output(d.id), JSON.stringify(output));
    const name = functionName("ferry", d.accountId, d.project, fn.name);
    await blobs.put(manifestKey(d.id), JSON.stringify({ deploymentId: d.id, functions: { [fn.name]: { functionName: name, alias: d.id, version: "1" } } }));
    const { zip } = await packageFunction(blobs, fn);
    await writeFile(join(dir, "fn.zip"), zip);
    execFileSync("unzip", ["-q", join(dir, "fn.zip"), "-d", join(dir, "task")]);
    lambda.add(name, d.id, join(dir, "task"), { FERRY_DEPLOYMENT_ID: d.id });

    api = (await import("../../cdk/handlers/api.ts")).handler as unknown as Handler;
    router = (await import("../../cdk/handlers/router.ts")).handler as unknown as Handler;
  }, 30_000);
  afterAll(async () => {
    for (const stop of stops) await stop().catch(() => {});
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("API: health without a token, whoami with one, 401 without", async () => {
    const health = await call(api, new Request(`${FN_URL}/v1/health`));
    expect(health).toMatchObject({ statusCode: 200, body: '{"ok":true}' });
    const me = await call(api, new Request(`${FN_URL}/v1/whoami`, { headers: { authorization: `Bearer ${token}` } }));
    expect(me.statusCode).toBe(200);
    expect(JSON.parse(me.body)).toMatchObject({ accountId: d.accountId, account: "h", scopes: ["*"] });
    const anon = await call(api, new Request(`${FN_URL}/v1/whoami`));
    expect(anon.statusCode).toBe(401);
    expect(JSON.parse(anon.body).error.code).toBeTruthy();
  });

  it("API: lists the project's deployments from DynamoDB", async () => {
    const res = await call(api, new Request(`${FN_URL}/v1/deployments?project=shop`, { headers: { authorization: `Bearer ${token}` } }));
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain(d.id);
  });

  it("router: a static file from S3 under the visitor's host (x-forwarded-host from CloudFront)", async () => {
    const res = await call(router, new Request(`${FN_URL}/`, { headers: { "x-forwarded-host": "shop-abc123.apps.example.com" } }));
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toContain("text/html");
    expect(res.body).toBe("<h1>static from S3</h1>");
    const missing = await call(router, new Request(`${FN_URL}/`, { headers: { "x-forwarded-host": "nobody-000000.apps.example.com" } }));
    expect(missing.statusCode).toBe(404);
  });

  it("router: a function through InvokeWithResponseStream of the deployment's alias, streamed back", async () => {
    const res = await call(router, new Request(`${FN_URL}/api/hello?name=ada`, { headers: { "x-forwarded-host": "shop-abc123.apps.example.com" } }));
    expect(res.statusCode, res.body + lambda.requests.join(" ")).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ hello: "ada", env: d.id, host: "shop-abc123.apps.example.com" });
    expect(res.cookies).toEqual(["seen=1"]);
    const invoked = lambda.calls.at(-1)!;
    expect(invoked.qualifier).toBe(d.id);
    expect(invoked.event).toMatchObject({ version: "2.0", rawPath: "/api/hello", rawQueryString: "name=ada" });
  }, 20_000);

  it("API: removing the deployment removes its Lambda alias and the manifest (onDeploymentRemoved -> evict)", async () => {
    const res = await call(api, new Request(`${FN_URL}/v1/deployments/${d.id}`, { method: "DELETE", headers: { authorization: `Bearer ${token}` } }));
    expect(res.statusCode).toBe(200);
    const name = functionName("ferry", d.accountId, d.project, "api/hello");
    expect(lambda.requests).toContain(`DELETE /2015-03-31/functions/${name}/aliases/${d.id}`);
    expect(await blobs.get(manifestKey(d.id))).toBeNull();
  }, 20_000);
});
