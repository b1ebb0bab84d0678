// The Lambda host's calls where no local server can answer: the AWS Lambda control plane and
// its InvokeWithResponseStream (moto cannot run functions without Docker, and nothing else here
// implements Lambda), so the SDK client is mocked with aws-sdk-client-mock and answers with the
// shapes and error names Lambda returns. What this proves: which calls the host makes, what it
// retries, and how a streamed answer reaches the visitor.
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeWithResponseStreamCommand,
  LambdaClient,
  PublishVersionCommand,
  TooManyRequestsException,
  ResourceConflictException,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from "@aws-sdk/client-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createFsBlobStore } from "../../core/blobs/fs.ts";
import type { BuiltFunction } from "../../core/types.ts";
import { deployFunction, type FunctionSpec } from "../../runtime/lambda/deploy.ts";
import { createLambdaHost, manifestKey } from "../../runtime/lambda/host.ts";
import type { ProjectRoles } from "../../runtime/lambda/roles.ts";
import type { InvokeStreamEvent } from "../../runtime/lambda/stream-response.ts";

const meta = { httpStatusCode: 429, $fault: "client" as const };
const throttled = () => new TooManyRequestsException({ message: "Rate exceeded", $metadata: meta, Reason: "ConcurrentInvocationLimitExceeded" });
const inProgress = () => new ResourceConflictException({ message: "The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:eu-west-1:123456789012:function:ferry-todo-abc123", $metadata: { httpStatusCode: 409 } });
const exists = () => new ResourceConflictException({ message: "Function already exist: ferry-todo-abc123", $metadata: { httpStatusCode: 409 } });

const fn: BuiltFunction = {
  name: "api/hi",
  route: "/api/hi",
  source: "api/hi.ts",
  handler: "function",
  artifact: { prefix: "deployments/dpl_m/functions/api%2Fhi", entry: "index.mjs", files: ["index.mjs"] },
  config: { memory: 256, maxDuration: 10, maxConcurrency: 10 },
};
const wire = (prelude: object) => Buffer.concat([Buffer.from(JSON.stringify(prelude)), Buffer.alloc(8)]);

describe("Lambda host against the SDK's recorded behaviour", () => {
  const lambda = new LambdaClient({ region: "eu-west-1", credentials: { accessKeyId: "AKIA0", secretAccessKey: "x" } });
  const mock = mockClient(lambda);
  let dir: string;
  let host: ReturnType<typeof createLambdaHost>;
  const roles: ProjectRoles = { ensure: async () => "arn:aws:iam::123456789012:role/ferry-fn-x" } as unknown as ProjectRoles;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ferry-lambda-mock-"));
    const blobs = createFsBlobStore(join(dir, "blobs"));
    await blobs.put(manifestKey("dpl_m"), JSON.stringify({ deploymentId: "dpl_m", functions: { "api/hi": { functionName: "ferry-todo-abc123", alias: "dpl_m", version: "3" } } }));
    host = createLambdaHost({ lambda, blobs, roles });
  });
  beforeEach(() => mock.reset());
  afterAll(async () => {
    mock.restore();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const target = { deploymentId: "dpl_m", project: "todo", fn, env: {} };
  const invoke = (path = "/api/hi") => host.invoke(target, new Request(`https://todo.apps.example.com${path}`), { requestId: "r1", responseHeaders: { "x-ferry-id": "r1" } });
  const stream = (events: InvokeStreamEvent[]) => ({ EventStream: (async function* () { yield* events; })(), StatusCode: 200, ResponseStreamContentType: "application/vnd.awslambda.http-integration-response" });

  it("invokes the deployment's alias with the function URL event, and a throttled invoke is retried", async () => {
    mock
      .on(InvokeWithResponseStreamCommand)
      .rejectsOnce(throttled())
      .resolves(stream([{ PayloadChunk: { Payload: wire({ statusCode: 200, headers: { "content-type": "text/plain" } }) } }, { PayloadChunk: { Payload: Buffer.from("hi") } }, { InvokeComplete: {} }]) as never);
    const res = await invoke("/api/hi?x=1");
    expect(await res.text()).toBe("hi");
    expect(res.headers.get("x-ferry-id")).toBe("r1");
    const calls = mock.commandCalls(InvokeWithResponseStreamCommand);
    expect(calls).toHaveLength(2);
    const input = calls[0]!.args[0].input;
    expect(input).toMatchObject({ FunctionName: "ferry-todo-abc123", Qualifier: "dpl_m" });
    const event = JSON.parse(Buffer.from(input.Payload as Uint8Array).toString("utf8"));
    expect(event).toMatchObject({ version: "2.0", rawPath: "/api/hi", rawQueryString: "x=1", requestContext: { http: { method: "GET" }, requestId: "r1" } });
  });

  it("still throttled after its retries: 503 function_throttled, not a crash", async () => {
    mock.on(InvokeWithResponseStreamCommand).rejects(throttled());
    await expect(invoke()).rejects.toMatchObject({ status: 503, code: "function_throttled" });
    expect(mock.commandCalls(InvokeWithResponseStreamCommand)).toHaveLength(3);
  });

  it("PayloadChunk events become a Response whose body streams to the visitor as they arrive", async () => {
    let release!: () => void;
    const later = new Promise<void>((r) => (release = r));
    const events = (async function* (): AsyncGenerator<InvokeStreamEvent> {
      // the prelude and the first event split mid-way, as Lambda's chunking may split them
      const head = Buffer.concat([wire({ statusCode: 200, headers: { "content-type": "text/event-stream" }, cookies: ["s=1"] }), Buffer.from("data: 1\n\n")]);
      yield { PayloadChunk: { Payload: head.subarray(0, 10) } };
      yield { PayloadChunk: { Payload: head.subarray(10) } };
      await later;
      yield { PayloadChunk: { Payload: Buffer.from("data: 2\n\n") } };
      yield { InvokeComplete: {} };
    })();
    mock.on(InvokeWithResponseStreamCommand).resolves({ EventStream: events, StatusCode: 200 } as never);
    const res = await invoke();
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    expect(res.headers.getSetCookie()).toEqual(["s=1"]);
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    // the first event is readable while the function has not produced the second
    expect(dec.decode((await reader.read()).value)).toBe("data: 1\n\n");
    release();
    expect(dec.decode((await reader.read()).value)).toBe("data: 2\n\n");
    expect((await reader.read()).done).toBe(true);
  });

  it("a function error in the stream, a body over the invoke limit, an unknown deployment", async () => {
    mock.on(InvokeWithResponseStreamCommand).resolves(stream([{ InvokeComplete: { ErrorCode: "Unhandled", ErrorDetails: "ReferenceError: x is not defined" } }]) as never);
    await expect(invoke()).rejects.toMatchObject({ status: 502, code: "function_crashed" });
    mock.on(InvokeWithResponseStreamCommand).rejects(Object.assign(new Error("Request must be smaller than 6291456 bytes"), { name: "RequestEntityTooLargeException" }));
    await expect(invoke()).rejects.toMatchObject({ status: 413 });
    await expect(host.invoke({ ...target, deploymentId: "dpl_none" }, new Request("https://x.example.com/"), { requestId: "r" })).rejects.toMatchObject({ code: "function_not_deployed" });
  });
});

describe("deployFunction: retries on throttling and on an update in progress", () => {
  const lambda = new LambdaClient({ region: "eu-west-1", credentials: { accessKeyId: "AKIA0", secretAccessKey: "x" } });
  const mock = mockClient(lambda);
  beforeEach(() => mock.reset());
  afterAll(() => mock.restore());

  const spec: FunctionSpec = {
    name: "ferry-todo-abc123",
    alias: "dpl_m",
    roleArn: "arn:aws:iam::123456789012:role/ferry-fn-x",
    runtime: "nodejs22.x",
    memory: 256,
    timeout: 10,
    env: { A: "1", AWS_REGION: "reserved" },
    zip: Buffer.from("zip"),
    sha256: "NEW",
    description: "d",
    tags: {},
  };
  const noSleep = { retry: { sleep: async () => {} }, waiter: { minDelay: 1, maxWaitTime: 5 } };
  const ready = { Configuration: { State: "Active", LastUpdateStatus: "Successful" } };

  it("an update in progress (ResourceConflictException) on UpdateFunctionCode and a throttle on UpdateFunctionConfiguration are retried; the version is published guarded", async () => {
    mock.on(GetFunctionConfigurationCommand).resolvesOnce({ CodeSha256: "OLD", RevisionId: "r1" }).resolves({ CodeSha256: "NEW", RevisionId: "r2" });
    mock.on(UpdateFunctionCodeCommand).rejectsOnce(inProgress()).rejectsOnce(inProgress()).resolves({});
    mock.on(UpdateFunctionConfigurationCommand).rejectsOnce(throttled()).resolves({});
    mock.on(GetFunctionCommand).resolves(ready as never);
    mock.on(PublishVersionCommand).resolves({ Version: "4" });
    mock.on(CreateAliasCommand).resolves({});
    expect(await deployFunction(lambda, spec, noSleep)).toBe("4");
    expect(mock.commandCalls(UpdateFunctionCodeCommand)).toHaveLength(3);
    expect(mock.commandCalls(UpdateFunctionConfigurationCommand)).toHaveLength(2);
    const env = mock.commandCalls(UpdateFunctionConfigurationCommand)[0]!.args[0].input.Environment!.Variables;
    expect(env).toEqual({ A: "1" }); // Lambda refuses reserved names such as AWS_REGION
    expect(mock.commandCalls(PublishVersionCommand)[0]!.args[0].input).toMatchObject({ CodeSha256: "NEW", RevisionId: "r2" });
    expect(mock.commandCalls(CreateAliasCommand)[0]!.args[0].input).toMatchObject({ Name: "dpl_m", FunctionVersion: "4" });
  });

  it("a function another deployment created meanwhile ('already exist') is not retried as busy but updated instead", async () => {
    mock
      .on(GetFunctionConfigurationCommand)
      .rejectsOnce(Object.assign(new Error("Function not found"), { name: "ResourceNotFoundException" }))
      .resolvesOnce({ CodeSha256: "NEW", RevisionId: "r1" })
      .resolves({ CodeSha256: "NEW", RevisionId: "r1" });
    mock.on(CreateFunctionCommand).rejects(exists());
    mock.on(UpdateFunctionConfigurationCommand).resolves({});
    mock.on(GetFunctionCommand).resolves(ready as never);
    mock.on(PublishVersionCommand).resolves({ Version: "1" });
    mock.on(CreateAliasCommand).resolves({});
    expect(await deployFunction(lambda, spec, noSleep)).toBe("1");
    expect(mock.commandCalls(CreateFunctionCommand)).toHaveLength(1);
    expect(mock.commandCalls(UpdateFunctionCodeCommand)).toHaveLength(0); // same code already there
  });

  it("throttling that outlasts the retries fails the deploy with Lambda's error", async () => {
    mock.on(GetFunctionConfigurationCommand).rejects(throttled());
    await expect(deployFunction(lambda, spec, { ...noSleep, retry: { ...noSleep.retry, attempts: 4 } })).rejects.toMatchObject({ name: "TooManyRequestsException" });
    expect(mock.commandCalls(GetFunctionConfigurationCommand)).toHaveLength(4);
  });
});
