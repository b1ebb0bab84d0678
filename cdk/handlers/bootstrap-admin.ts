// Custom resource, run once when the stack is created: the first account and its admin token,
// the token kept only as an SSM SecureString (CloudFormation cannot create SecureStrings itself).
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { createToken } from "../../api/services/tokens.ts";
import { randomId } from "../../core/ids.ts";
import { createMetadata } from "../../core/metadata/repository.ts";
import { createDocClient } from "../../core/metadata/table.ts";
import { need } from "./platform.ts";

interface CustomResourceEvent {
  RequestType: "Create" | "Update" | "Delete";
  PhysicalResourceId?: string;
  ResourceProperties: { ParameterName: string };
}

export async function handler(event: CustomResourceEvent) {
  const name = event.ResourceProperties.ParameterName;
  // the token outlives updates; on delete the stack's parameter goes with the stack
  if (event.RequestType !== "Create") return { PhysicalResourceId: event.PhysicalResourceId ?? name };
  const region = need("AWS_REGION");
  const metadata = createMetadata(createDocClient({ region }), need("FERRY_TABLE"));
  const accountId = `acc_${randomId(12)}`;
  await metadata.putAccount({ id: accountId, name: "admin", createdAt: Date.now() });
  const { token } = await createToken(metadata, accountId, "admin", ["*"]);
  await new SSMClient({ region }).send(
    new PutParameterCommand({ Name: name, Type: "SecureString", Value: token, KeyId: need("FERRY_KMS_KEY"), Overwrite: true, Description: "Ferry: the first admin token (ferry login --token)" }),
  );
  return { PhysicalResourceId: name, Data: { AccountId: accountId } };
}
