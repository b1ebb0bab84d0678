// The AWS target end to end, on this machine: the stack's own Lambdas, bundled as `cdk synth`
// bundles them (cdk/bundle.ts) and run by Lambda's Node runtime client against a Runtime API, with
// the environment the synthesized template gives each of them; AWS itself replaced by local
// stand-ins reached through the SDK's AWS_ENDPOINT_URL_<SERVICE> variables:
// - DynamoDB: dynalite (the metadata table and the app's kv tables);
// - S3, STS, KMS, IAM, SSM and Lambda's control plane: moto (S3 is moto's rather than s3rver
//   here: the build worker signs with the per-build credentials moto's STS mints, which s3rver
//   would not know); Lambda's invocations: helpers/local-lambda.ts,
//   which runs each published version from the zip the platform handed moto;
// - the function URLs: helpers/function-url.ts. CloudFront is not here: requests reach the router's
//   URL with the visitor's host in x-forwarded-host, as the stack's viewer-request function sends it.
// The CLI is the real `ferry` bin, logged in to the API's URL with the token the stack's custom
// resource wrote to SSM. It deploys examples/todo (npm install, esbuild, stores, a sensitive
// secret), promotes, rolls back and removes a preview.
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreatePolicyCommand, IAMClient } from "@aws-sdk/client-iam";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { GetAliasCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleHandler, HANDLERS, type HandlerName } from "../../cdk/bundle.ts";
import { createDocClient, ensureTable } from "../../core/metadata/table.ts";
import { localAwsConfig, startDynalite } from "../../server/services/dynalite.ts";
import { ROOT, runFerryProcess, requestVia } from "../helpers/platform-process.ts";
import { startFunctionUrl } from "./helpers/function-url.ts";
import { startLocalLambda, type LocalLambda } from "./helpers/local-lambda.ts";
import { FAKE_CREDENTIALS, hasMoto, startMoto } from "./helpers/moto.ts";
import { drain } from "./helpers/runtime-api.ts";
import { synthStack } from "./helpers/stack.ts";

const REGION = "eu-west-1";
const DOMAIN = "apps.ferry.test";
const TABLE = "ferry-metadata";
const BUCKET = "ferry-blobs";
const CREDS = { AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey };
const fnName = (h: HandlerName) => `FerryPlatform-${h}`;

// moto_server is a Python program: without it on PATH this suite is skipped (CI has it)
describe.skipIf(!(await hasMoto()))("the AWS target end to end with local stand-ins", () => {
  let dir: string;
  let lambda: LocalLambda;
  let apiUrl: string;
  let routerUrl: string;
  let token: string;
  const stops: (() => Promise<unknown>)[] = [];
  const out: string[] = [];
  // what the sandboxes and the URLs saw, for a failing step's message (and live with FERRY_AWS_E2E_DEBUG=1)
  const note = (t: string) => {
    t = `${new Date().toISOString().slice(14, 23)} ${t}`;
    out.push(t);
    if (process.env.FERRY_AWS_E2E_DEBUG) process.stderr.write(t);
  };
  const home = () => ({ FERRY_HOME: join(dir, "home") });
  const ferry = async (args: string[], opts: { cwd?: string; input?: string } = {}) => {
    const r = await runFerryProcess(args, { env: home(), timeoutMs: 300_000, ...opts });
    if (r.code !== 0) throw new Error(`ferry ${args.join(" ")} exited ${r.code}\n${r.stderr}\n--- sandboxes:\n${out.join("").slice(-6000)}`);
    return r;
  };
  /** What a visitor sees once the routers' host cache (1 s, cdk/handlers/router.ts) has caught up. */
  const eventually = async (label: string, path: string, ok: (r: { status: number; text: string }) => boolean) => {
    const until = Date.now() + 5000;
    for (;;) {
      const r = await visit(label, path);
      if (ok(r) || Date.now() > until) return r;
      await new Promise((w) => setTimeout(w, 200));
    }
  };
  const visit = (label: string, path: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}) =>
    requestVia(routerUrl, new URL(routerUrl).host, path, { ...init, headers: { "x-forwarded-host": `${label}.${DOMAIN}`, ...init.headers } });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ferry-aws-e2e-"));
    const [dyn, moto] = await Promise.all([startDynalite(), startMoto()]);
    stops.push(() => dyn.end(), () => moto.stop());

    // what CloudFormation creates before any Lambda runs: the table, the key, the boundary policy
    await ensureTable(createDocClient(localAwsConfig(dyn.endpoint)), TABLE);
    const aws = { region: REGION, endpoint: moto.endpoint, credentials: FAKE_CREDENTIALS };
    await new S3Client({ ...aws, forcePathStyle: true }).send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: REGION } }));
    const key = (await new KMSClient(aws).send(new CreateKeyCommand({ Description: "ferry e2e" }))).KeyMetadata!.Arn!;
    const boundary = (await new IAMClient(aws).send(new CreatePolicyCommand({ PolicyName: "ferry-function-boundary", PolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }) }))).Policy!.Arn!;

    // the environment of each platform Lambda, as the synthesized template sets it
    const { app } = synthStack({ appsDomain: DOMAIN, certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/e2e" });
    const template = app.synth({ validateOnSynthesis: false }).getStackByName("FerryPlatform").template as { Resources: Record<string, { Type: string; Properties: any }> };
    const logical = (h: HandlerName) => Object.keys(template.Resources).find((id) => new RegExp(`^${h[0]!.toUpperCase()}${h.slice(1)}[0-9A-F]{8}$`).test(id))!;
    const byId: Record<string, string> = {};
    for (const [id, r] of Object.entries(template.Resources)) {
      if (r.Type === "AWS::DynamoDB::GlobalTable") byId[id] = TABLE;
      if (r.Type === "AWS::S3::Bucket") byId[id] = BUCKET;
      if (r.Type === "AWS::KMS::Key") byId[id] = key;
      if (r.Type === "AWS::IAM::ManagedPolicy" && id.startsWith("FunctionBoundary")) byId[id] = boundary;
      if (r.Type === "AWS::IAM::Role" && id.startsWith("BuildSession")) byId[id] = "arn:aws:iam::123456789012:role/ferry-build-session";
    }
    for (const h of Object.keys(HANDLERS) as HandlerName[]) byId[logical(h)] = fnName(h);
    const resolve = (v: unknown): string => {
      if (typeof v === "string") return v;
      const ref = (v as { Ref?: string }).Ref ?? (v as { "Fn::GetAtt"?: [string, string] })["Fn::GetAtt"]?.[0];
      if (ref && byId[ref]) return byId[ref]!;
      throw new Error(`the e2e test has no local value for ${JSON.stringify(v)}: wire it`);
    };
    const envOf = (h: HandlerName) => Object.fromEntries(Object.entries<unknown>(template.Resources[logical(h)]!.Properties.Environment?.Variables ?? {}).map(([k, v]) => [k, resolve(v)]));

    const endpoints = {
      AWS_REGION: REGION,
      ...CREDS,
      AWS_ENDPOINT_URL_DYNAMODB: dyn.endpoint,
      AWS_ENDPOINT_URL_S3: moto.endpoint,
      AWS_REQUEST_CHECKSUM_CALCULATION: "WHEN_REQUIRED",
      AWS_RESPONSE_CHECKSUM_VALIDATION: "WHEN_REQUIRED",
    };
    // tenant functions get what a Lambda sandbox has (region, credentials) plus the stand-ins' endpoints
    lambda = await startLocalLambda({ controlPlane: moto.endpoint, env: { ...endpoints, FERRY_S3_FORCE_PATH_STYLE: "true" }, onOutput: (k, t) => note(`[${k.split(":")[0]}] ${t}`) });
    stops.unshift(() => lambda.close());
    const assets = join(dir, "assets");
    for (const h of Object.keys(HANDLERS) as HandlerName[]) {
      const root = bundleHandler(h, assets);
      lambda.add(fnName(h), null, root, {
        ...endpoints,
        AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
        AWS_ENDPOINT_URL_KMS: moto.endpoint,
        AWS_ENDPOINT_URL_IAM: moto.endpoint,
        AWS_ENDPOINT_URL_SSM: moto.endpoint,
        AWS_ENDPOINT_URL_STS: moto.endpoint,
        AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: moto.endpoint,
        AWS_LAMBDA_FUNCTION_NAME: fnName(h),
        FERRY_BUILD_DIR: join(dir, "worker-tmp"),
        ...envOf(h),
      }, "index.handler");
    }
    const api = await startFunctionUrl(lambda, fnName("api"), note);
    const router = await startFunctionUrl(lambda, fnName("router"), note);
    stops.unshift(() => api.close(), () => router.close());
    apiUrl = api.url;
    routerUrl = router.url;

    // the stack's custom resource, as CloudFormation calls it on create
    const created = await drain((await lambda.run(fnName("bootstrapAdmin"), null, { RequestType: "Create", ResourceProperties: { ParameterName: "/FerryPlatform/admin-token" } }))!);
    expect(created.complete?.ErrorCode, created.body.toString() + out.join("")).toBeUndefined();
    const param = await new SSMClient(aws).send(new GetParameterCommand({ Name: "/FerryPlatform/admin-token", WithDecryption: true }));
    token = param.Parameter!.Value!;
  }, 120_000);

  afterAll(async () => {
    for (const stop of stops) await stop().catch(() => {});
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("logs in with the token from SSM", async () => {
    expect(token).toMatch(/\S{20,}/);
    await ferry(["login", "--api", apiUrl, "--token", token]);
    const who = JSON.parse((await ferry(["whoami", "--json"])).stdout);
    expect(who.apiUrl).toBe(apiUrl);
  });

  it("the build worker builds nothing without the credentials the coordinator mints for that build", async () => {
    const inv = await lambda.run(fnName("buildWorker"), null, { request: { deploymentId: "dpl_forged", accountId: "acc_x", project: "x", files: [], config: {}, buildEnv: {} } });
    const { body } = await drain(inv!);
    expect(JSON.parse(body.toString("utf8").trim().split("\n").at(-1)!).result.errors[0].message).toMatch(/no credentials/);
  });

  let first = "";
  it("deploys examples/todo to production: static files from S3, functions on Lambda, a kv table in DynamoDB, a sensitive secret", async () => {
    await ferry(["env", "add", "TODO_WRITE_KEY", "--sensitive", "--environment", "production", "--project", "todo"], { input: "e2e-write-key" });
    const r = await ferry([join(ROOT, "examples/todo"), "--prod", "--json"]);
    expect(r.stderr).toMatch(/Linked kv store "todos" \(production\)/);
    first = JSON.parse(r.stdout).id;
    const page = await visit("todo", "/");
    expect(page.status, page.text).toBe(200);
    expect(page.text).toContain(await readFile(join(ROOT, "examples/todo/public/index.html"), "utf8").then((t) => t.slice(0, 40)));

    expect((await visit("todo", "/api/todos", { method: "POST", body: JSON.stringify({ title: "no key" }), headers: { "content-type": "application/json" } })).status).toBe(401);
    const created = await visit("todo", "/api/todos", { method: "POST", body: JSON.stringify({ title: "buy milk" }), headers: { "content-type": "application/json", "x-write-key": "e2e-write-key" } });
    expect(created.status, created.text + out.join("").slice(-3000)).toBe(201);
    const list = await visit("todo", "/api/todos");
    expect(list.status, list.text).toBe(200);
    expect(JSON.parse(list.text).map((t: { title: string }) => t.title)).toEqual(["buy milk"]);
  }, 400_000);

  let second = "";
  it("a changed deploy goes live, rollback returns to the first, promote forward again", async () => {
    const copy = join(dir, "todo-v2");
    await cp(join(ROOT, "examples/todo"), copy, { recursive: true, filter: (src) => !src.includes("node_modules") });
    await writeFile(join(copy, "public/index.html"), "<!doctype html><title>todo v2</title><h1>version two</h1>\n");
    second = JSON.parse((await ferry([copy, "--prod", "--json"])).stdout).id;
    expect((await eventually("todo", "/", (r) => r.text.includes("version two"))).text).toContain("version two");

    await ferry(["rollback", "todo"]);
    expect((await eventually("todo", "/", (r) => !r.text.includes("version two"))).text).not.toContain("version two");
    // the data stays: the same production table behind both deployments
    expect(JSON.parse((await visit("todo", "/api/todos")).text).map((t: { title: string }) => t.title)).toEqual(["buy milk"]);

    await ferry(["promote", second]);
    expect((await eventually("todo", "/", (r) => r.text.includes("version two"))).text).toContain("version two");
    expect(first).not.toBe(second);
  }, 400_000);

  it("removing a preview deployment removes its Lambda alias and its host", async () => {
    const r = JSON.parse((await ferry([join(ROOT, "examples/todo"), "--json"])).stdout);
    const label = new URL(r.url).hostname.split(".")[0]!;
    expect((await visit(label, "/api/todos")).status).toBe(200);
    const fnOf = lambda.calls.filter((c) => c.qualifier === r.id).at(-1)!.name;
    await ferry(["rm", r.id]);
    expect((await eventually(label, "/", (r) => r.status === 404)).status).toBe(404);
    const client = new LambdaClient({ region: REGION, endpoint: lambda.endpoint, credentials: FAKE_CREDENTIALS });
    await expect(client.send(new GetAliasCommand({ FunctionName: fnOf, Name: r.id }))).rejects.toThrow(/not found|cannot find|ResourceNotFound/i);
    // production is untouched
    expect((await visit("todo", "/")).text).toContain("version two");
  }, 400_000);
});
