import { CliError } from "./io.ts";

/** citty keeps the last value of a repeated flag; `--env A=1 --env B=2` needs all of them. */
export function collectFlag(rawArgs: string[], name: string, alias?: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i]!;
    if (a === `--${name}` || (alias && a === `-${alias}`)) {
      const v = rawArgs[i + 1];
      if (v === undefined) throw new CliError(`--${name} needs a value`, "invalid_argument", 2);
      out.push(v);
      i++;
    } else if (a.startsWith(`--${name}=`)) out.push(a.slice(name.length + 3));
  }
  return out;
}

export function parseKeyValues(values: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf("=");
    const key = eq < 0 ? v : v.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new CliError(`--${flag} ${JSON.stringify(v)}: expected KEY=VALUE with a valid variable name`, "invalid_argument", 2);
    if (eq < 0) throw new CliError(`--${flag} ${JSON.stringify(v)}: expected KEY=VALUE`, "invalid_argument", 2);
    out[key] = v.slice(eq + 1);
  }
  return out;
}

/** Common flags every command takes. */
export const commonArgs = {
  api: { type: "string", description: "API URL (or FERRY_API_URL)" },
  token: { type: "string", description: "API token (or FERRY_TOKEN)" },
  json: { type: "boolean", description: "print one JSON object on stdout" },
} as const;
