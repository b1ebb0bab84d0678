// `npm run synth:aws`: synthesizes the FerryPlatform stack into cdk.out/ with no AWS account and
// no Docker (the platform's Lambdas are bundled by the local esbuild). Deploy with `npx cdk deploy`.
import { App } from "aws-cdk-lib";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { join } from "node:path";
import { bundleHandler, type HandlerName } from "./bundle.ts";
import { configFromContext } from "./config.ts";
import { FerryPlatformStack } from "./stack.ts";

const app = new App({ outdir: process.env.CDK_OUTDIR ?? "cdk.out" });
const config = configFromContext(app);
const bundles = join(app.outdir, "ferry-bundles");
const cache = new Map<HandlerName, lambda.Code>();
const code = (name: HandlerName) => {
  let c = cache.get(name);
  if (!c) cache.set(name, (c = lambda.Code.fromAsset(bundleHandler(name, bundles))));
  return c;
};
new FerryPlatformStack(app, (app.node.tryGetContext("ferry:stackName") as string | undefined) ?? "FerryPlatform", {
  config,
  code,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: (app.node.tryGetContext("ferry:region") as string | undefined) ?? process.env.CDK_DEFAULT_REGION },
});
app.synth();
