// Assertions on the synthesized CloudFormation template. Validation against the offline schema
// is off here for speed; stack-validation.test.ts runs it once.
process.env.CDK_VALIDATION = "false";
import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { configFromContext } from "../../cdk/config.ts";
import { App } from "aws-cdk-lib";
import { synthStack } from "./helpers/stack.ts";

const { template } = synthStack();
const resources = (type: string) => Object.entries(template.findResources(type)) as [string, { Properties: Record<string, any> }][];
const statementsOf = (logicalPrefix: string) =>
  resources("AWS::IAM::Policy")
    .filter(([, r]) => JSON.stringify(r.Properties.Roles).includes(logicalPrefix))
    .flatMap(([, r]) => r.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown; Condition?: unknown }[]);
const actions = (s: { Action: string | string[] }) => [s.Action].flat();

describe("FerryPlatform template", () => {
  it("metadata: the single-table design with both GSIs, on demand, point-in-time recovery", () => {
    template.resourceCountIs("AWS::DynamoDB::GlobalTable", 1);
    template.hasResourceProperties("AWS::DynamoDB::GlobalTable", {
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      BillingMode: "PAY_PER_REQUEST",
      GlobalSecondaryIndexes: [
        Match.objectLike({ IndexName: "gsi1", KeySchema: [{ AttributeName: "gsi1pk", KeyType: "HASH" }, { AttributeName: "gsi1sk", KeyType: "RANGE" }], Projection: { ProjectionType: "ALL" } }),
        Match.objectLike({ IndexName: "gsi2", KeySchema: [{ AttributeName: "gsi2pk", KeyType: "HASH" }, { AttributeName: "gsi2sk", KeyType: "RANGE" }] }),
      ],
      Replicas: [Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true }, DeletionProtectionEnabled: true })],
    });
    template.hasResource("AWS::DynamoDB::GlobalTable", { DeletionPolicy: "Retain" });
  });

  it("blobs: encrypted, versioned, private, TLS only, orphaned uploads and old versions expire", () => {
    template.hasResourceProperties("AWS::S3::Bucket", {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }] },
      VersioningConfiguration: { Status: "Enabled" },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: "Enabled" }),
          Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 30 }, Status: "Enabled" }),
        ]),
      },
    });
    template.hasResourceProperties("AWS::S3::BucketPolicy", {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } })]) },
    });
  });

  it("a KMS key with rotation for env, secrets and the admin token", () => {
    template.hasResourceProperties("AWS::KMS::Key", { EnableKeyRotation: true });
  });

  it("API and router behind function URLs that stream (RESPONSE_STREAM); the API checks its own tokens", () => {
    const urls = resources("AWS::Lambda::Url");
    expect(urls).toHaveLength(2);
    for (const [, u] of urls) {
      expect(u.Properties.InvokeMode).toBe("RESPONSE_STREAM");
      expect(u.Properties.AuthType).toBe("NONE");
    }
    const targets = urls.map(([, u]) => JSON.stringify(u.Properties.TargetFunctionArn));
    expect(targets.some((t) => t.includes("Api"))).toBe(true);
    expect(targets.some((t) => t.includes("Router"))).toBe(true);
  });

  it("the build worker has the build limits: 15 minutes, memory and 10 GB of /tmp", () => {
    template.hasResourceProperties("AWS::Lambda::Function", { Timeout: 900, MemorySize: 3008, EphemeralStorage: { Size: 10240 }, Runtime: "nodejs22.x" });
    const custom = synthStack(configFromContext(new App({ context: { "ferry:buildTimeoutSeconds": 600, "ferry:buildMemoryMb": 4096, "ferry:buildDiskMb": 2048, "ferry:nodeRuntime": "nodejs20.x" } }))).template;
    custom.hasResourceProperties("AWS::Lambda::Function", { Timeout: 600, MemorySize: 4096, EphemeralStorage: { Size: 2048 }, Runtime: "nodejs20.x" });
  });

  it("log groups keep the configured retention", () => {
    for (const [, g] of resources("AWS::Logs::LogGroup")) expect(g.Properties.RetentionInDays).toBe(30);
    const t = synthStack({ retentionDays: 100 }).template;
    for (const [, g] of Object.entries(t.findResources("AWS::Logs::LogGroup"))) expect((g as any).Properties.RetentionInDays).toBe(120);
  });

  it("the build worker, which runs tenant build commands, reaches nothing of its own: no metadata, no key, no bucket", () => {
    const all = statementsOf("BuildWorker").flatMap(actions);
    for (const service of ["dynamodb:", "kms:", "iam:", "lambda:", "s3:", "sts:"]) expect(all.filter((a) => a.startsWith(service)), service).toEqual([]);
  });

  it("each build gets credentials of the build role, which only the coordinator may assume: uploads and artifacts, nothing else", () => {
    const [[id, role]] = resources("AWS::IAM::Role").filter(([k]) => k.startsWith("BuildSession"));
    const trust = role.Properties.AssumeRolePolicyDocument.Statement as { Principal: { AWS: unknown } }[];
    expect(trust).toHaveLength(1);
    expect(JSON.stringify(trust[0]!.Principal.AWS)).toMatch(/BuildsServiceRole/);
    expect(role.Properties.MaxSessionDuration).toBe(3600);
    const own = statementsOf(id!);
    expect(own.flatMap(actions).sort()).toEqual(["s3:AbortMultipartUpload", "s3:GetObject", "s3:ListBucket", "s3:PutObject"]);
    const res = JSON.stringify(own.map((x) => x.Resource));
    expect(res).toContain("/files/*");
    expect(res).toContain("/deployments/*/functions/*");
    const assume = statementsOf("Builds").find((x) => actions(x).includes("sts:AssumeRole"))!;
    expect(JSON.stringify(assume.Resource)).toContain(id);
    for (const other of ["Api", "Router", "BuildWorker"]) expect(statementsOf(other).flatMap(actions)).not.toContain("sts:AssumeRole");
    template.hasResourceProperties("AWS::Lambda::Function", { Environment: { Variables: Match.objectLike({ FERRY_BUILD_ROLE: { "Fn::GetAtt": [id, "Arn"] }, FERRY_BUILD_TIMEOUT_SECONDS: "900" }) } });
  });

  it("per-project function roles: created only with the boundary, passed only to Lambda, limited to ferry-* names", () => {
    const s = statementsOf("Builds");
    const create = s.find((x) => actions(x).includes("iam:CreateRole"))!;
    expect(JSON.stringify(create.Resource)).toContain(":role/ferry-fn-*");
    expect(JSON.stringify(create.Condition)).toContain("iam:PermissionsBoundary");
    const pass = s.find((x) => actions(x).includes("iam:PassRole"))!;
    expect(pass.Condition).toEqual({ StringEquals: { "iam:PassedToService": "lambda.amazonaws.com" } });
    const createFn = s.find((x) => actions(x).includes("lambda:CreateFunction"))!;
    expect(JSON.stringify(createFn.Resource)).toContain(":function:ferry-*");
    // the boundary: logs of ferry-* functions, ferry-* tables and buckets, nothing else
    const boundary = resources("AWS::IAM::ManagedPolicy")[0]![1].Properties.PolicyDocument.Statement as { Action: string[]; Resource: unknown }[];
    expect(JSON.stringify(boundary.map((b) => b.Resource))).not.toMatch(/Metadata|Blobs|SecretsKey/);
    expect(boundary.flatMap(actions).every((a) => /^(logs|dynamodb|s3):/.test(a))).toBe(true);
  });

  it("the router may invoke only deployed functions' versions; the API may only remove them", () => {
    const router = statementsOf("Router").find((x) => actions(x).includes("lambda:InvokeWithResponseStream"))!;
    expect(JSON.stringify(router.Resource)).toContain(":function:ferry-*:*");
    expect(statementsOf("Api").flatMap(actions).filter((a) => a.startsWith("lambda:")).sort()).toEqual(["lambda:DeleteAlias", "lambda:DeleteFunction", "lambda:InvokeFunction", "lambda:ListAliases"]);
  });

  it("the API may read deployed functions' logs for `ferry logs`, and no other log groups", () => {
    const read = statementsOf("Api").filter((x) => actions(x).some((a) => a === "logs:FilterLogEvents" || a === "logs:DescribeLogStreams"));
    expect(read).toHaveLength(1);
    expect(actions(read[0]!).sort()).toEqual(["logs:DescribeLogStreams", "logs:FilterLogEvents"]);
    const res = JSON.stringify(read[0]!.Resource);
    expect(res).toContain(":log-group:/aws/lambda/ferry-*\"");
    expect(res).toContain(":log-group:/aws/lambda/ferry-*:*");
    for (const other of ["Router", "Builds", "BuildWorker"]) expect(statementsOf(other).flatMap(actions)).not.toContain("logs:FilterLogEvents");
  });

  it("CloudFront in front of the router: HTTPS, all methods, the visitor's host kept for the router", () => {
    template.hasResourceProperties("AWS::CloudFront::Distribution", {
      DistributionConfig: Match.objectLike({
        DefaultCacheBehavior: Match.objectLike({
          ViewerProtocolPolicy: "redirect-to-https",
          AllowedMethods: Match.arrayWith(["PUT", "POST", "DELETE"]),
          FunctionAssociations: [Match.objectLike({ EventType: "viewer-request" })],
        }),
      }),
    });
    template.hasResourceProperties("AWS::CloudFront::Function", { FunctionCode: Match.stringLikeRegexp("x-forwarded-host") });
    template.hasResourceProperties("AWS::CloudFront::CachePolicy", {
      CachePolicyConfig: Match.objectLike({ ParametersInCacheKeyAndForwardedToOrigin: Match.objectLike({ HeadersConfig: { HeaderBehavior: "whitelist", Headers: ["x-forwarded-host"] } }) }),
    });
  });

  it("an apps domain adds the wildcard alias and certificate; domain and certificate go together", () => {
    const t = synthStack({ appsDomain: "apps.example.com", certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/abc" }).template;
    t.hasResourceProperties("AWS::CloudFront::Distribution", {
      DistributionConfig: Match.objectLike({ Aliases: ["*.apps.example.com"], ViewerCertificate: Match.objectLike({ AcmCertificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/abc" }) }),
    });
    expect(() => configFromContext(new App({ context: { "ferry:appsDomain": "apps.example.com" } }))).toThrow(/go together/);
    expect(() => configFromContext(new App({ context: { "ferry:buildTimeoutSeconds": 2000 } }))).toThrow(/60..900/);
  });

  it("outputs the API URL and the SSM parameter holding the first admin token", () => {
    template.hasOutput("ApiUrl", { Value: { "Fn::GetAtt": [Match.stringLikeRegexp("^ApiFunctionUrl"), "FunctionUrl"] } });
    template.hasOutput("AdminTokenParameter", { Value: "/FerryPlatform/admin-token" });
    template.hasResourceProperties("AWS::CloudFormation::CustomResource", { ParameterName: "/FerryPlatform/admin-token" });
    const put = statementsOf("BootstrapAdmin").find((x) => actions(x).includes("ssm:PutParameter"))!;
    expect(JSON.stringify(put.Resource)).toContain("parameter/FerryPlatform/admin-token");
  });
});
