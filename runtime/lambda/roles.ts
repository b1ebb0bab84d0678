import {
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  EntityAlreadyExistsException,
  GetRoleCommand,
  type IAMClient,
  NoSuchEntityException,
  PutRolePolicyCommand,
} from "@aws-sdk/client-iam";

/** What a project's functions may reach: exactly the stores their env names. */
export interface StoreGrants {
  tables: string[];
  buckets: string[];
}

/**
 * The grants a function's environment implies: `FERRY_STORE_<NAME>_TABLE` and `_BUCKET` are
 * the resources the linker provisioned for this project and environment (stores/env.ts), so the
 * role is derived from the same facts the app reads, and cannot name anything else.
 */
export function grantsFromEnv(env: Record<string, string>): StoreGrants {
  const tables = new Set<string>();
  const buckets = new Set<string>();
  for (const [k, v] of Object.entries(env)) {
    if (!k.startsWith("FERRY_STORE_")) continue;
    if (k.endsWith("_TABLE")) tables.add(v);
    else if (k.endsWith("_BUCKET")) buckets.add(v);
  }
  return { tables: [...tables].sort(), buckets: [...buckets].sort() };
}

export interface RoleOptions {
  iam: IAMClient;
  /** e.g. `arn:aws:` partition prefix pieces */
  partition?: string;
  region: string;
  accountId: string;
  /** the permissions boundary every role the platform creates must carry (the stack's) */
  boundaryArn?: string;
  /** a tag on every role, for cost and clean-up */
  tags?: Record<string, string>;
}

export interface ProjectRoles {
  /** creates the role (once) and sets its store policy to exactly `grants`; returns its ARN */
  ensure(roleName: string, grants: StoreGrants): Promise<string>;
  remove(roleName: string): Promise<void>;
}

const TRUST = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
});

/** The inline policy of one project role: its own log groups, and its stores' items/objects. */
export function storePolicy(o: { partition: string; region: string; accountId: string; functionPrefix: string }, grants: StoreGrants): string {
  const { partition: p, region, accountId } = o;
  const statements: unknown[] = [
    {
      Sid: "OwnLogs",
      Effect: "Allow",
      Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: `arn:${p}:logs:${region}:${accountId}:log-group:/aws/lambda/${o.functionPrefix}-*`,
    },
  ];
  if (grants.tables.length) {
    statements.push({
      Sid: "KvStores",
      Effect: "Allow",
      Action: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable"],
      Resource: grants.tables.flatMap((t) => [`arn:${p}:dynamodb:${region}:${accountId}:table/${t}`, `arn:${p}:dynamodb:${region}:${accountId}:table/${t}/index/*`]),
    });
  }
  if (grants.buckets.length) {
    statements.push(
      { Sid: "BlobStoreObjects", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"], Resource: grants.buckets.map((b) => `arn:${p}:s3:::${b}/*`) },
      { Sid: "BlobStoreBuckets", Effect: "Allow", Action: ["s3:ListBucket", "s3:GetBucketLocation"], Resource: grants.buckets.map((b) => `arn:${p}:s3:::${b}`) },
    );
  }
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

/** One IAM role per project and environment, created on its first deploy. */
export function createProjectRoles(opts: RoleOptions & { functionPrefix: string }): ProjectRoles {
  const partition = opts.partition ?? "aws";
  const known = new Map<string, { arn: string; policy: string }>();
  return {
    async ensure(roleName, grants) {
      const policy = storePolicy({ partition, region: opts.region, accountId: opts.accountId, functionPrefix: opts.functionPrefix }, grants);
      const cached = known.get(roleName);
      if (cached?.policy === policy) return cached.arn;
      let arn: string | undefined;
      const tags = Object.entries(opts.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
      try {
        const created = await opts.iam.send(
          new CreateRoleCommand({
            RoleName: roleName,
            AssumeRolePolicyDocument: TRUST,
            Description: "Ferry: functions of one project and environment",
            PermissionsBoundary: opts.boundaryArn,
            Tags: tags.length ? tags : undefined,
          }),
        );
        arn = created.Role?.Arn;
      } catch (e) {
        if (!(e instanceof EntityAlreadyExistsException)) throw e;
        arn = (await opts.iam.send(new GetRoleCommand({ RoleName: roleName }))).Role?.Arn;
      }
      if (!arn) throw new Error(`IAM returned no ARN for role ${roleName}`);
      await opts.iam.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: "ferry-stores", PolicyDocument: policy }));
      known.set(roleName, { arn, policy });
      return arn;
    },
    async remove(roleName) {
      known.delete(roleName);
      for (const step of [
        () => opts.iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: "ferry-stores" })),
        () => opts.iam.send(new DeleteRoleCommand({ RoleName: roleName })),
      ]) {
        await step().catch((e) => {
          if (!(e instanceof NoSuchEntityException)) throw e;
        });
      }
    },
  };
}
