import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { DEFAULT_CONFIG, type FerryPlatformConfig } from "../../../cdk/config.ts";
import { FerryPlatformStack } from "../../../cdk/stack.ts";

/** The stack with placeholder code for its Lambdas (bundling is tested once, by synth). */
export function synthStack(config: Partial<FerryPlatformConfig> = {}, context: Record<string, unknown> = {}) {
  const app = new App({ context });
  const stack = new FerryPlatformStack(app, "FerryPlatform", {
    config: { ...DEFAULT_CONFIG, ...config },
    code: (name) => lambda.Code.fromInline(`exports.handler = async () => ${JSON.stringify(name)};`),
    env: { account: "123456789012", region: "eu-west-1" },
  });
  // Template.fromStack synthesizes (with validation, seconds) each time: only when asked, once
  let template: Template | undefined;
  return {
    app,
    stack,
    get template() {
      return (template ??= Template.fromStack(stack));
    },
  };
}
