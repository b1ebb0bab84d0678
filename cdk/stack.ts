import { CfnOutput, CustomResource, Duration, RemovalPolicy, Size, Stack, type StackProps } from "aws-cdk-lib";
import * as acm from "aws-cdk-lib/aws-certificatemanager";
import * as cloudfront from "aws-cdk-lib/aws-cloudfront";
import * as origins from "aws-cdk-lib/aws-cloudfront-origins";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as cr from "aws-cdk-lib/custom-resources";
import type { Construct } from "constructs";
import { TABLE_GSIS } from "../core/metadata/table.ts";
import type { HandlerName } from "./bundle.ts";
import type { FerryPlatformConfig } from "./config.ts";

export interface FerryPlatformProps extends StackProps {
  config: FerryPlatformConfig;
  /** the code of each platform Lambda (cdk/app.ts bundles it with esbuild; tests pass fixtures) */
  code: (name: HandlerName) => lambda.Code;
}

/**
 * Ferry on AWS, one stack: the API (function URL), the metadata table, the blob bucket, the KMS
 * key, the build coordinator and worker, the router behind CloudFront, and the first admin
 * token in SSM. Deployed functions are not part of it: the platform creates them at deploy time.
 */
export class FerryPlatformStack extends Stack {
  constructor(scope: Construct, id: string, props: FerryPlatformProps) {
    super(scope, id, props);
    const { config } = props;
    const removal = config.removal === "destroy" ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const runtime = config.nodeRuntime === "nodejs20.x" ? lambda.Runtime.NODEJS_20_X : lambda.Runtime.NODEJS_22_X;
    const prefix = config.namePrefix;

    const key = new kms.Key(this, "SecretsKey", { description: "Ferry: env vars, secrets and the admin token", enableKeyRotation: true, removalPolicy: removal });

    // the single-table design of core/metadata/table.ts
    const attr = (name: string) => ({ name, type: dynamodb.AttributeType.STRING });
    const table = new dynamodb.TableV2(this, "Metadata", {
      partitionKey: attr("pk"),
      sortKey: attr("sk"),
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
      globalSecondaryIndexes: TABLE_GSIS.map((g) => ({ indexName: g, partitionKey: attr(`${g}pk`), sortKey: attr(`${g}sk`) })),
      deletionProtection: config.removal === "retain",
      removalPolicy: removal,
    });

    // uploads (files/<account>/<sha>), artifacts, outputs and build logs (deployments/<id>/...)
    const bucket = new s3.Bucket(this, "Blobs", {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      removalPolicy: removal,
      autoDeleteObjects: false,
      lifecycleRules: [
        // a streamed upload that never completed (client gone, digest mismatch) leaves parts
        { id: "orphaned-uploads", abortIncompleteMultipartUploadAfter: Duration.days(1) },
        // overwritten or deleted objects stay recoverable for a while, then go
        { id: "old-versions", noncurrentVersionExpiration: Duration.days(config.retentionDays) },
      ],
    });

    const stackFacts = {
      FERRY_TABLE: table.tableName,
      FERRY_BUCKET: bucket.bucketName,
      FERRY_KMS_KEY: key.keyArn,
      FERRY_STACK: this.stackName,
      FERRY_ACCOUNT_ID: this.account,
      FERRY_FUNCTION_PREFIX: prefix,
      FERRY_STORE_PREFIX: prefix,
      NODE_OPTIONS: "--enable-source-maps",
    };
    const fn = (id: HandlerName, o: Partial<lambda.FunctionProps> & { env?: Record<string, string> }) =>
      new lambda.Function(this, id[0]!.toUpperCase() + id.slice(1), {
        runtime,
        architecture: lambda.Architecture.X86_64,
        handler: "index.handler",
        code: props.code(id),
        memorySize: 1024,
        timeout: Duration.seconds(30),
        logGroup: new logs.LogGroup(this, `${id}Logs`, { retention: retention(config.retentionDays), removalPolicy: RemovalPolicy.DESTROY }),
        ...o,
        environment: { ...stackFacts, ...o.env },
      });

    // what every deployed function's role may at most do, whatever the platform puts in it
    const boundary = new iam.ManagedPolicy(this, "FunctionBoundary", {
      description: "Ferry: the most a deployed function may do (its own logs and app data stores)",
      statements: [
        new iam.PolicyStatement({ actions: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], resources: [`arn:${this.partition}:logs:${this.region}:${this.account}:log-group:/aws/lambda/${prefix}-*`] }),
        new iam.PolicyStatement({ actions: ["dynamodb:*"], resources: [`arn:${this.partition}:dynamodb:${this.region}:${this.account}:table/${prefix}-*`] }),
        new iam.PolicyStatement({ actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListBucket", "s3:GetBucketLocation"], resources: [`arn:${this.partition}:s3:::${prefix}-*`] }),
      ],
    });
    const fnEnv = { FERRY_FUNCTION_BOUNDARY: boundary.managedPolicyArn };

    const builds = fn("builds", { timeout: Duration.seconds(config.build.timeoutSeconds), memorySize: 1024, env: fnEnv });
    const worker = fn("buildWorker", {
      timeout: Duration.seconds(config.build.timeoutSeconds),
      memorySize: config.build.memoryMb,
      ephemeralStorageSize: Size.mebibytes(config.build.diskMb),
      env: { FERRY_TABLE: "", FERRY_KMS_KEY: "" },
    });
    const api = fn("api", { memorySize: 1024, timeout: Duration.seconds(60), env: { FERRY_BUILDS_FUNCTION: builds.functionName } });
    const router = fn("router", { memorySize: 1024, timeout: Duration.seconds(900), env: fnEnv });
    builds.addEnvironment("FERRY_BUILD_WORKER_FUNCTION", worker.functionName);

    // control plane: API, coordinator and router read and write metadata, blobs and secrets
    for (const f of [api, builds, router]) {
      table.grantReadWriteData(f);
      bucket.grantReadWrite(f);
      key.grantEncryptDecrypt(f);
      f.addToRolePolicy(new iam.PolicyStatement({ actions: ["kms:GenerateDataKey"], resources: [key.keyArn] }));
    }
    builds.grantInvoke(api);
    worker.grantInvoke(builds);
    // The worker runs tenant build commands, which can read whatever the worker holds: its own
    // role gets nothing beyond its logs (no metadata, no key, no bucket). For each build the
    // coordinator assumes this role with a session policy cut down to that build's account and
    // deployment (runtime/lambda/build-credentials.ts) and hands the worker those credentials.
    const buildRole = new iam.Role(this, "BuildSession", {
      description: "Ferry: what one build may do in the bucket, narrowed per build by a session policy",
      assumedBy: new iam.ArnPrincipal(builds.role!.roleArn),
      maxSessionDuration: Duration.hours(1),
    });
    buildRole.addToPolicy(new iam.PolicyStatement({ actions: ["s3:GetObject"], resources: [bucket.arnForObjects("files/*")] }));
    buildRole.addToPolicy(new iam.PolicyStatement({ actions: ["s3:ListBucket"], resources: [bucket.bucketArn], conditions: { StringLike: { "s3:prefix": ["files/*"] } } }));
    buildRole.addToPolicy(new iam.PolicyStatement({ actions: ["s3:PutObject", "s3:AbortMultipartUpload"], resources: [bucket.arnForObjects("deployments/*/functions/*"), bucket.arnForObjects("files/*")] }));
    buildRole.grantAssumeRole(builds.grantPrincipal);
    builds.addEnvironment("FERRY_BUILD_ROLE", buildRole.roleArn);
    builds.addEnvironment("FERRY_BUILD_TIMEOUT_SECONDS", String(config.build.timeoutSeconds));

    // the API and coordinator provision app data stores named `<prefix>-*`
    for (const f of [api, builds]) {
      f.addToRolePolicy(new iam.PolicyStatement({ actions: ["dynamodb:CreateTable", "dynamodb:DescribeTable", "dynamodb:DeleteTable", "dynamodb:Scan", "dynamodb:UpdateTimeToLive", "dynamodb:TagResource"], resources: [`arn:${this.partition}:dynamodb:${this.region}:${this.account}:table/${prefix}-*`] }));
      f.addToRolePolicy(new iam.PolicyStatement({ actions: ["s3:CreateBucket", "s3:DeleteBucket", "s3:ListBucket", "s3:PutBucketPublicAccessBlock", "s3:PutEncryptionConfiguration", "s3:PutBucketTagging", "s3:GetObject", "s3:DeleteObject"], resources: [`arn:${this.partition}:s3:::${prefix}-*`, `arn:${this.partition}:s3:::${prefix}-*/*`] }));
    }

    // the coordinator turns functions into Lambdas with per-project roles; it can only create
    // roles that carry the boundary, and pass only those roles, only to Lambda
    const fnArn = `arn:${this.partition}:lambda:${this.region}:${this.account}:function:${prefix}-*`;
    const roleArn = `arn:${this.partition}:iam::${this.account}:role/${prefix}-fn-*`;
    builds.addToRolePolicy(new iam.PolicyStatement({ actions: ["lambda:CreateFunction", "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:PublishVersion", "lambda:CreateAlias", "lambda:UpdateAlias", "lambda:TagResource"], resources: [fnArn, `${fnArn}:*`] }));
    builds.addToRolePolicy(new iam.PolicyStatement({ actions: ["iam:CreateRole", "iam:PutRolePolicy"], resources: [roleArn], conditions: { StringEquals: { "iam:PermissionsBoundary": boundary.managedPolicyArn } } }));
    builds.addToRolePolicy(new iam.PolicyStatement({ actions: ["iam:GetRole", "iam:TagRole"], resources: [roleArn] }));
    builds.addToRolePolicy(new iam.PolicyStatement({ actions: ["iam:PassRole"], resources: [roleArn], conditions: { StringEquals: { "iam:PassedToService": "lambda.amazonaws.com" } } }));
    // the router invokes deployed functions; the API removes them with their deployment
    router.addToRolePolicy(new iam.PolicyStatement({ actions: ["lambda:InvokeFunction", "lambda:InvokeWithResponseStream"], resources: [`${fnArn}:*`] }));
    api.addToRolePolicy(new iam.PolicyStatement({ actions: ["lambda:DeleteAlias", "lambda:DeleteFunction", "lambda:ListAliases"], resources: [fnArn, `${fnArn}:*`] }));
    // `ferry logs`: the API reads what deployed functions wrote (core/logs/cloudwatch.ts)
    const fnLogs = `arn:${this.partition}:logs:${this.region}:${this.account}:log-group:/aws/lambda/${prefix}-*`;
    api.addToRolePolicy(new iam.PolicyStatement({ actions: ["logs:FilterLogEvents", "logs:DescribeLogStreams"], resources: [fnLogs, `${fnLogs}:*`] }));

    const apiUrl = api.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE, invokeMode: lambda.InvokeMode.RESPONSE_STREAM });
    const routerUrl = router.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE, invokeMode: lambda.InvokeMode.RESPONSE_STREAM });

    // CloudFront asks the function URL under its own host name; the visitor's goes along in
    // x-forwarded-host (the router puts it back)
    const viewerHost = new cloudfront.Function(this, "ViewerHost", {
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      comment: "Ferry: keep the visitor's Host for the router",
      code: cloudfront.FunctionCode.fromInline(
        "function handler(event) { var r = event.request; if (r.headers.host) r.headers['x-forwarded-host'] = { value: r.headers.host.value }; return r; }",
      ),
    });
    const domainNames = config.appsDomain ? [`*.${config.appsDomain}`] : undefined;
    const distribution = new cloudfront.Distribution(this, "Apps", {
      comment: `Ferry apps (${this.stackName})`,
      ...(domainNames ? { domainNames, certificate: acm.Certificate.fromCertificateArn(this, "AppsCertificate", config.certificateArn!) } : {}),
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      defaultBehavior: {
        origin: new origins.FunctionUrlOrigin(routerUrl, { readTimeout: Duration.seconds(60) }),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
        // the router's answers depend on the host; Cache-Control from the app decides caching
        cachePolicy: new cloudfront.CachePolicy(this, "ByHost", {
          comment: "Ferry: cache by host, path and query as the app's Cache-Control says",
          defaultTtl: Duration.seconds(0),
          minTtl: Duration.seconds(0),
          maxTtl: Duration.days(365),
          headerBehavior: cloudfront.CacheHeaderBehavior.allowList("x-forwarded-host"),
          queryStringBehavior: cloudfront.CacheQueryStringBehavior.all(),
          cookieBehavior: cloudfront.CacheCookieBehavior.none(),
          enableAcceptEncodingGzip: true,
          enableAcceptEncodingBrotli: true,
        }),
        originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        functionAssociations: [{ function: viewerHost, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
      },
    });
    // Hosts are `<label>.<apps domain>`: the CloudFront domain has no subdomains of its own, so
    // without a custom domain apps answer only to a Host the router knows (see cdk/README.md).
    // (Naming the distribution's domain here would also make a cycle: router -> distribution.)
    const appsDomain = config.appsDomain ?? UNSET_APPS_DOMAIN;
    for (const f of [api, builds, router, worker]) f.addEnvironment("FERRY_DOMAIN", appsDomain);

    // the first admin token, created once by a custom resource and kept as a SecureString
    const tokenParameter = `/${this.stackName}/admin-token`;
    const bootstrap = fn("bootstrapAdmin", { timeout: Duration.seconds(60), memorySize: 512 });
    table.grantWriteData(bootstrap);
    key.grantEncrypt(bootstrap);
    bootstrap.addToRolePolicy(new iam.PolicyStatement({ actions: ["ssm:PutParameter"], resources: [this.formatArn({ service: "ssm", resource: "parameter", resourceName: tokenParameter.slice(1) })] }));
    const provider = new cr.Provider(this, "BootstrapProvider", { onEventHandler: bootstrap, logGroup: new logs.LogGroup(this, "BootstrapProviderLogs", { retention: retention(config.retentionDays), removalPolicy: RemovalPolicy.DESTROY }) });
    new CustomResource(this, "AdminToken", { serviceToken: provider.serviceToken, properties: { ParameterName: tokenParameter } });

    new CfnOutput(this, "ApiUrl", { value: apiUrl.url, description: "ferry login --api <this>" });
    new CfnOutput(this, "AdminTokenParameter", { value: tokenParameter, description: "aws ssm get-parameter --with-decryption --name <this>" });
    new CfnOutput(this, "AppsDomain", { value: appsDomain, description: "deployments answer at <label>.<this>" });
    new CfnOutput(this, "AppsDistribution", { value: distribution.distributionDomainName, description: "point *.<apps domain> here (CNAME)" });
  }
}

/** The apps domain until one is configured: reserved (RFC 2606), so it never names a real host. */
export const UNSET_APPS_DOMAIN = "apps.ferry.invalid";

function retention(days: number): logs.RetentionDays {
  const allowed = Object.values(logs.RetentionDays).filter((v): v is number => typeof v === "number" && v > 0).sort((a, b) => a - b);
  return (allowed.find((d) => d >= days) ?? allowed.at(-1)!) as logs.RetentionDays;
}
