import { z } from "zod";
import { ALL_SCOPES } from "./services/tokens.ts";
export { deployBodySchema } from "./services/deploy-request.ts";

// Request bodies of the JSON routes. Each is strict: an unknown field is an error, never ignored.

const environment = z.enum(["production", "preview"]);

export const tokenBodySchema = z.strictObject({
  /** shown in `ferry tokens ls`; default "token" */
  name: z.string().trim().min(1).max(100).optional(),
  /** default: the creating token's own scopes */
  scopes: z.array(z.enum(["*", ...ALL_SCOPES])).min(1).optional(),
});

export const envBodySchema = z.strictObject({
  key: z.string(),
  value: z.string(),
  /** default: both */
  environment: z.union([environment, z.array(environment).min(1)]).optional(),
  sensitive: z.boolean().optional(),
});

export const aliasBodySchema = z.strictObject({
  alias: z.string(),
  /** deployment id, host label or URL */
  deployment: z.string(),
});
