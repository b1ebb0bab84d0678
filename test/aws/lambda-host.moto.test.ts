// The Lambda host's control-plane calls against moto's Lambda and IAM on loopback: the real SDK
// over real HTTP. moto has no Docker here, so it cannot run (invoke) a function; invocation is
// covered through a local Runtime API (lambda-runtime.test.ts) and the SDK's recorded
// streaming shape (lambda-invoke.test.ts).
import { CreatePolicyCommand, GetRoleCommand, GetRolePolicyCommand, IAMClient, ListRoleTagsCommand } from "@aws-sdk/client-iam";
import { GetAliasCommand, GetFunctionCommand, LambdaClient, ListVersionsByFunctionCommand } from "@aws-sdk/client-lambda";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFsBlobStore } from "../../core/blobs/fs.ts";
import type { BlobStore } from "../../core/blobs/port.ts";
import type { BuildOutput } from "../../core/types.ts";
import { createLambdaHost, manifestKey, type LambdaManifest } from "../../runtime/lambda/host.ts";
import { functionName, roleName } from "../../runtime/lambda/names.ts";
import { packageFunction } from "../../runtime/lambda/package.ts";
import { createProjectRoles } from "../../runtime/lambda/roles.ts";
import { FAKE_CREDENTIALS, hasMoto, REGION, startMoto } from "./helpers/moto.ts";

const available = await hasMoto();

describe.skipIf(!available)("Lambda host against moto's Lambda + IAM", () => {
  let moto: Awaited<ReturnType<typeof startMoto>>;
  let dir: string;
  let blobs: BlobStore;
  let lambda: LambdaClient;
  let host: ReturnType<typeof createLambdaHost>;
  let iam: IAMClient;

  const output = (body: string): BuildOutput => ({
    version: 1,
    static: [],
    routes: {},
    functions: [
      {
        name: "api/hi",
        route: "/api/hi",
        source: "api/hi.ts",
        handler: "function",
        artifact: { prefix: "deployments/X/functions/api%2Fhi", entry: "index.mjs", files: ["index.mjs"] },
        config: { memory: 512, maxDuration: 20, maxConcurrency: 10 },
      },
    ],
    ...{ _body: body },
  });

  beforeAll(async () => {
    moto = await startMoto();
    dir = await mkdtemp(join(tmpdir(), "ferry-lambda-host-"));
    blobs = createFsBlobStore(join(dir, "blobs"));
    lambda = new LambdaClient({ endpoint: moto.endpoint, region: REGION, credentials: FAKE_CREDENTIALS });
    iam = new IAMClient({ endpoint: moto.endpoint, region: REGION, credentials: FAKE_CREDENTIALS });
    const roles = createProjectRoles({ iam, region: REGION, accountId: "123456789012", functionPrefix: "ferry" });
    host = createLambdaHost({ lambda, blobs, roles, deploy: { waiter: { minDelay: 1, maxWaitTime: 20 } } });
  }, 30_000);
  afterAll(async () => {
    lambda?.destroy();
    iam?.destroy();
    await moto?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const put = (body: string) => blobs.put("deployments/X/functions/api%2Fhi/index.mjs", `export default () => new Response(${JSON.stringify(body)});`);
  const d1 = { id: "dpl_aaaaaaaaaaaaaaaa", accountId: "acc1", project: "todo", target: "production" as const };
  const d2 = { id: "dpl_bbbbbbbbbbbbbbbb", accountId: "acc1", project: "todo", target: "production" as const };
  const storeEnv = { FERRY_STORE_TODOS_TYPE: "kv", FERRY_STORE_TODOS_TABLE: "ferry-acc1-todo-prod-todos-12345678", FERRY_STORE_FILES_BUCKET: "ferry-acc1-todo-prod-files-abcdef12" };

  it("creates the function, its role and a version named by the deployment's alias", async () => {
    await put("one");
    const m = await host.deploy(d1, output("one"), { ...storeEnv, FERRY_DEPLOYMENT_ID: d1.id, AWS_REGION: "eu-west-1" });
    const name = functionName("ferry", "acc1", "todo", "api/hi");
    expect(m.functions["api/hi"]).toEqual({ functionName: name, alias: d1.id, version: "1" });

    const fn = await lambda.send(new GetFunctionCommand({ FunctionName: name }));
    const c = fn.Configuration!;
    expect(c.Runtime).toBe("nodejs22.x");
    expect(c.Handler).toBe("ferry-lambda.handler");
    expect(c.MemorySize).toBe(512);
    expect(c.Timeout).toBe(20);
    // the reserved AWS_REGION is dropped: Lambda sets it and refuses it in CreateFunction
    expect(c.Environment?.Variables).toEqual({ ...storeEnv, FERRY_DEPLOYMENT_ID: d1.id });
    expect(c.Role).toContain(roleName("ferry", "acc1", "todo", "production"));
    const alias = await lambda.send(new GetAliasCommand({ FunctionName: name, Name: d1.id }));
    expect(alias.FunctionVersion).toBe("1");

    // the role reaches exactly the stores the env names
    // IAM returns policy documents URL-encoded
    const policy = decodeURIComponent((await iam.send(new GetRolePolicyCommand({ RoleName: roleName("ferry", "acc1", "todo", "production"), PolicyName: "ferry-stores" }))).PolicyDocument!);
    const doc = JSON.parse(policy) as { Statement: { Sid: string; Resource: string | string[] }[] };
    const kv = doc.Statement.find((s) => s.Sid === "KvStores")!;
    expect(kv.Resource).toEqual([
      "arn:aws:dynamodb:us-east-1:123456789012:table/ferry-acc1-todo-prod-todos-12345678",
      "arn:aws:dynamodb:us-east-1:123456789012:table/ferry-acc1-todo-prod-todos-12345678/index/*",
    ]);
    expect(doc.Statement.find((s) => s.Sid === "BlobStoreObjects")!.Resource).toEqual(["arn:aws:s3:::ferry-acc1-todo-prod-files-abcdef12/*"]);

    const stored = JSON.parse((await blobs.get(manifestKey(d1.id)))!.toString()) as LambdaManifest;
    expect(stored).toEqual(m);
  });

  it("a second deployment updates code and configuration and publishes its own version", async () => {
    await put("two");
    const m = await host.deploy(d2, output("two"), { FERRY_DEPLOYMENT_ID: d2.id });
    const name = m.functions["api/hi"]!.functionName;
    expect(m.functions["api/hi"]!.version).toBe("2");
    const versions = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: name }));
    expect(versions.Versions!.map((v) => v.Version).sort()).toEqual(["$LATEST", "1", "2"]);
    const v1 = versions.Versions!.find((v) => v.Version === "1")!;
    const v2 = versions.Versions!.find((v) => v.Version === "2")!;
    expect(v1.CodeSha256).not.toBe(v2.CodeSha256);
    // the first deployment still answers with its own code and env
    expect(v1.Environment?.Variables?.FERRY_DEPLOYMENT_ID).toBe(d1.id);
    expect((await lambda.send(new GetAliasCommand({ FunctionName: name, Name: d1.id }))).FunctionVersion).toBe("1");
    expect((await lambda.send(new GetAliasCommand({ FunctionName: name, Name: d2.id }))).FunctionVersion).toBe("2");
  });

  it("the zip Lambda holds is the packaged one: bootstrap, generated entry and bundle", async () => {
    const name = functionName("ferry", "acc1", "todo", "api/hi");
    const fn = await lambda.send(new GetFunctionCommand({ FunctionName: name, Qualifier: "2" }));
    const { zip, sha256 } = await packageFunction(blobs, output("two").functions[0]!);
    expect(fn.Configuration!.CodeSha256).toBe(sha256);
    const file = join(dir, "fn.zip");
    writeFileSync(file, zip);
    execFileSync("unzip", ["-tq", file]);
    const listing = execFileSync("unzip", ["-Z1", file], { encoding: "utf8" }).trim().split("\n").sort();
    expect(listing.filter((p) => !p.startsWith(".ferry/"))).toEqual(["ferry-lambda.mjs", "index.mjs"]);
    expect(listing).toContain(".ferry/lambda/bootstrap.mjs");
    expect(execFileSync("unzip", ["-p", file, "index.mjs"], { encoding: "utf8" })).toContain('"two"');
    const entry = execFileSync("unzip", ["-p", file, "ferry-lambda.mjs"], { encoding: "utf8" });
    expect(entry).toContain('new URL("./index.mjs", import.meta.url)');
    expect(entry).toContain('createHandler(() => import(entry.href), "function"');
  });

  it("project roles: created with the boundary and tags, reused when they exist, removed idempotently", async () => {
    const boundary = (await iam.send(new CreatePolicyCommand({ PolicyName: "ferry-test-boundary", PolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }) }))).Policy!.Arn!;
    const opts = { iam, region: REGION, accountId: "123456789012", functionPrefix: "ferry", boundaryArn: boundary, tags: { "ferry:platform": "test" } };
    const name = "ferry-test-role";
    const arn = await createProjectRoles(opts).ensure(name, { tables: [], buckets: [] });
    const role = (await iam.send(new GetRoleCommand({ RoleName: name }))).Role!;
    expect(role.Arn).toBe(arn);
    expect(role.PermissionsBoundary?.PermissionsBoundaryArn).toBe(boundary);
    expect((await iam.send(new ListRoleTagsCommand({ RoleName: name }))).Tags).toEqual([{ Key: "ferry:platform", Value: "test" }]);
    // another instance (a cold Lambda) finds the role already there and sets the new policy
    const again = createProjectRoles(opts);
    expect(await again.ensure(name, { tables: ["t1"], buckets: [] })).toBe(arn);
    const policy = decodeURIComponent((await iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: "ferry-stores" }))).PolicyDocument!);
    expect(policy).toContain("table/t1");
    await again.remove(name);
    await expect(iam.send(new GetRoleCommand({ RoleName: name }))).rejects.toMatchObject({ name: "NoSuchEntityException" });
    await again.remove(name);
  });

  it("removing a deployment removes its version and alias; the last one removes the function", async () => {
    const name = functionName("ferry", "acc1", "todo", "api/hi");
    await host.evict(d1.id);
    await expect(lambda.send(new GetAliasCommand({ FunctionName: name, Name: d1.id }))).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    const versions = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: name }));
    expect(versions.Versions!.map((v) => v.Version).sort()).toEqual(["$LATEST", "2"]);
    expect(await blobs.get(manifestKey(d1.id))).toBeNull();

    await host.evict(d2.id);
    await expect(lambda.send(new GetFunctionCommand({ FunctionName: name }))).rejects.toMatchObject({ name: "ResourceNotFoundException" });
  });
});
