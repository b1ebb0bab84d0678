// The one strict pass: the template is checked against CloudFormation's offline schema (unknown
// properties, bad enums) and the stack has no error annotations. Slow (seconds), so only once.
process.env.CDK_VALIDATION = "true";
import { Annotations } from "aws-cdk-lib/assertions";
import { expect, it } from "vitest";
import { synthStack } from "./helpers/stack.ts";

it("the template passes CloudFormation schema validation", () => {
  const { stack } = synthStack({}, { "@aws-cdk/core:validateAgainstDefaultRules": true });
  // one synth (each assertion helper synthesizes again): a violation throws from it
  let annotations: Annotations | undefined;
  expect(() => (annotations = Annotations.fromStack(stack))).not.toThrow();
  annotations!.hasNoError("*", "*" as never);
}, 60_000);
