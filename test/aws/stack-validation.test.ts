// The one strict pass: the template is checked against CloudFormation's offline schema (unknown
// properties, bad enums) and the stack has no error annotations. Slow (seconds), so only once.
process.env.CDK_VALIDATION = "true";
import { Annotations } from "aws-cdk-lib/assertions";
import { expect, it } from "vitest";
import { synthStack } from "./helpers/stack.ts";

it("the template passes CloudFormation schema validation", () => {
  const { app, stack } = synthStack({}, { "@aws-cdk/core:validateAgainstDefaultRules": true });
  expect(() => app.synth()).not.toThrow();
  Annotations.fromStack(stack).hasNoError("*", "*" as never);
}, 60_000);
