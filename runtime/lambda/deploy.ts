import {
  CreateAliasCommand,
  CreateFunctionCommand,
  GetFunctionConfigurationCommand,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
  type LambdaClient,
  type Runtime,
} from "@aws-sdk/client-lambda";
import { LAMBDA_HANDLER } from "./package.ts";
import { withRetry, type RetryOptions } from "./retry.ts";

export interface FunctionSpec {
  name: string;
  alias: string;
  roleArn: string;
  runtime: Runtime;
  memory: number;
  timeout: number;
  env: Record<string, string>;
  zip: Buffer;
  /** base64 SHA-256 of `zip`, as Lambda reports CodeSha256 */
  sha256: string;
  description: string;
  tags: Record<string, string>;
}

export interface DeployOptions {
  retry?: RetryOptions;
  /** waiter bounds in seconds (Lambda's own minimum delay is 1 s) */
  waiter?: { minDelay?: number; maxDelay?: number; maxWaitTime?: number };
  /** how often to start over when another deployment changed the function in between */
  raceAttempts?: number;
}

/** Names Lambda reserves for itself in a function's environment (CreateFunction refuses them). */
const RESERVED = new Set(["_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR"]);
export const lambdaEnv = (env: Record<string, string>) => Object.fromEntries(Object.entries(env).filter(([k]) => !RESERVED.has(k)));

/**
 * Makes `spec.alias` name a published version of `spec.name` holding exactly this code and
 * configuration: create the function, or update its code then its configuration (waiting for
 * each update to finish, as Lambda refuses a second one meanwhile), publish a version guarded by
 * the code hash and revision, and point the deployment's alias at it. Two deployments of one
 * project racing here cannot publish each other's code: a guard that fails starts over.
 * Returns the version.
 */
export async function deployFunction(lambda: LambdaClient, spec: FunctionSpec, opts: DeployOptions = {}): Promise<string> {
  const retry = <T>(op: () => Promise<T>) => withRetry(op, opts.retry);
  const waiter = { client: lambda, minDelay: opts.waiter?.minDelay ?? 1, maxDelay: opts.waiter?.maxDelay ?? 5, maxWaitTime: opts.waiter?.maxWaitTime ?? 300 };
  const Environment = { Variables: lambdaEnv(spec.env) };
  const config = { Role: spec.roleArn, Runtime: spec.runtime, Handler: LAMBDA_HANDLER, MemorySize: spec.memory, Timeout: spec.timeout, Environment, Description: spec.description };
  const races = opts.raceAttempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    const existing = await retry(() => lambda.send(new GetFunctionConfigurationCommand({ FunctionName: spec.name }))).catch((e) => {
      if ((e as Error).name === "ResourceNotFoundException") return null;
      throw e;
    });
    if (!existing) {
      try {
        await retry(() => lambda.send(new CreateFunctionCommand({ FunctionName: spec.name, Code: { ZipFile: spec.zip }, PackageType: "Zip", Publish: false, Tags: spec.tags, ...config })));
      } catch (e) {
        // another deployment created it first: update it like any existing function
        if ((e as Error).name !== "ResourceConflictException") throw e;
        continue;
      }
      await waitUntilFunctionActiveV2(waiter, { FunctionName: spec.name });
    } else {
      if (existing.CodeSha256 !== spec.sha256) {
        await retry(() => lambda.send(new UpdateFunctionCodeCommand({ FunctionName: spec.name, ZipFile: spec.zip })));
        await waitUntilFunctionUpdatedV2(waiter, { FunctionName: spec.name });
      }
      await retry(() => lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: spec.name, ...config })));
      await waitUntilFunctionUpdatedV2(waiter, { FunctionName: spec.name });
    }
    const now = await retry(() => lambda.send(new GetFunctionConfigurationCommand({ FunctionName: spec.name })));
    if (now.CodeSha256 !== spec.sha256 && attempt < races) continue;
    try {
      const v = await retry(() => lambda.send(new PublishVersionCommand({ FunctionName: spec.name, CodeSha256: spec.sha256, RevisionId: now.RevisionId, Description: spec.description })));
      await pointAlias(lambda, spec, v.Version!, retry);
      return v.Version!;
    } catch (e) {
      // PreconditionFailed: the function changed after we read it (another deployment's update)
      if ((e as Error).name === "PreconditionFailedException" && attempt < races) continue;
      throw e;
    }
  }
}

async function pointAlias(lambda: LambdaClient, spec: FunctionSpec, version: string, retry: <T>(op: () => Promise<T>) => Promise<T>) {
  try {
    await retry(() => lambda.send(new CreateAliasCommand({ FunctionName: spec.name, Name: spec.alias, FunctionVersion: version, Description: spec.description })));
  } catch (e) {
    // a retried deploy of the same deployment: the alias exists, move it
    if ((e as Error).name !== "ResourceConflictException") throw e;
    await retry(() => lambda.send(new UpdateAliasCommand({ FunctionName: spec.name, Name: spec.alias, FunctionVersion: version })));
  }
}
