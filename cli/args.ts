import { CliError } from "./io.ts";

/**
 * citty keeps the last value of a repeated flag; `--env A=1 --env B=2` needs all of them.
 * (checkArgs has already made sure no value looks like a flag, so a value is never misread.)
 */
export function collectFlag(rawArgs: string[], name: string, alias?: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i]!;
    if (a === "--") break;
    if (a === `--${name}` || (alias && a === `-${alias}`)) {
      const v = rawArgs[i + 1];
      if (v === undefined) throw new CliError(`--${name} needs a value`, "missing_value", 2);
      out.push(v);
      i++;
    } else if (a.startsWith(`--${name}=`)) out.push(a.slice(name.length + 3));
    else if (alias && a.startsWith(`-${alias}`) && !a.startsWith("--")) out.push(a.slice(2).replace(/^=/, ""));
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

/** A flag that must be a whole number >= 1, when given. */
export function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(value)) throw new CliError(`${flag} must be a whole number of at least 1, not ${JSON.stringify(value)}`, "invalid_value", 2);
  return Number(value);
}

/** Common flags every command takes. */
export const commonArgs = {
  api: { type: "string", description: "API URL (or FERRY_API_URL)" },
  token: { type: "string", description: "API token (or FERRY_TOKEN)" },
  json: { type: "boolean", description: "print one JSON object on stdout" },
} as const;
