import type { ArgsDef } from "citty";
import { CliError } from "./io.ts";

/** Edit distance (insertions, deletions, substitutions, adjacent swaps), for "did you mean". */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The candidate closest to `word`, if it is close enough to be what was meant. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const w = word.toLowerCase();
  for (const c of candidates) {
    const dist = editDistance(w, c.toLowerCase());
    if (dist < bestDistance) [best, bestDistance] = [c, dist];
  }
  // one typo in a short word, two in a longer one; a prefix of 3+ letters counts as close too
  const limit = w.length <= 4 ? 1 : 2;
  if (best !== undefined && bestDistance <= limit) return best;
  const prefixed = [...candidates].filter((c) => w.length >= 3 && c.startsWith(w));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

export const didYouMean = (word: string, candidates: Iterable<string>, render = (s: string) => s) => {
  const c = closest(word, candidates);
  return c === undefined ? "" : `; did you mean ${render(c)}?`;
};

const usageError = (message: string, code: string) => new CliError(message, code, 2);

/** A positional naming an action (`env add`, `alias ls`...) must be one of `choices`. */
export function oneOf<T extends string>(value: string, choices: readonly T[], command: string): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw usageError(
    `unknown ${command} action ${JSON.stringify(value)}${didYouMean(value, choices)} (use ${choices.slice(0, -1).join(", ")} or ${choices.at(-1)})`,
    "unknown_action",
  );
}

type Flag = { name: string; type: "string" | "boolean" | "enum"; options?: string[] };

/**
 * Checks raw arguments against a command's citty definitions before citty parses them, which it
 * does leniently: an unknown flag is an error with the closest known flag as a hint, a flag that
 * takes a value must get one (not nothing, not another flag), a boolean takes none, an enum's
 * value must be one of its options, and there can be no more positionals than the command names.
 * `--x=value` passes a value that starts with `-`; everything after `--` is positional.
 * Returns the positionals, in order.
 */
export function checkArgs(argsDef: ArgsDef, rawArgs: string[], command: string): string[] {
  const byLong = new Map<string, Flag>();
  const byShort = new Map<string, Flag>();
  let positionals = 0;
  for (const [name, def] of Object.entries(argsDef)) {
    if (def.type === "positional") {
      positionals++;
      continue;
    }
    const flag: Flag = { name, type: def.type ?? "string", options: "options" in def ? def.options : undefined };
    // only the spelling `--help` shows (citty would also take `--buildEnv` for `--build-env`)
    byLong.set(name, flag);
    const aliases = "alias" in def && def.alias ? (Array.isArray(def.alias) ? def.alias : [def.alias]) : [];
    for (const a of aliases) (a.length === 1 ? byShort : byLong).set(a, flag);
  }
  const known = [...new Set(Object.entries(argsDef).filter(([, d]) => d.type !== "positional").map(([n]) => `--${n}`))];
  const help = `run \`${command} --help\` for its options`;
  const needsValue = (shown: string) => usageError(`${shown} needs a value (write ${shown}=<value> for one that starts with "-")`, "missing_value");
  const checkValue = (flag: Flag, shown: string, value: string) => {
    if (value === "") throw needsValue(shown);
    if (flag.type === "enum" && flag.options && !flag.options.includes(value)) {
      throw usageError(`${shown} must be one of ${flag.options.join(", ")}, not ${JSON.stringify(value)}${didYouMean(value, flag.options)}`, "invalid_value");
    }
  };

  const given: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i]!;
    if (arg === "--") {
      given.push(...rawArgs.slice(i + 1));
      break;
    }
    if (arg === "-" || !arg.startsWith("-")) {
      given.push(arg);
      continue;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const flag = byLong.get(name);
      if (!flag && name.startsWith("no-") && byLong.get(name.slice(3))?.type === "boolean") {
        if (eq >= 0) throw usageError(`--${name} takes no value`, "unexpected_value");
        continue;
      }
      if (!flag) throw usageError(`unknown option --${name} for \`${command}\`${didYouMean(`--${name}`, known)} (${help})`, "unknown_option");
      if (flag.type === "boolean") {
        if (eq >= 0 && !["true", "false"].includes(arg.slice(eq + 1))) throw usageError(`--${name} takes no value`, "unexpected_value");
        continue;
      }
      if (eq >= 0) checkValue(flag, `--${name}`, arg.slice(eq + 1));
      else {
        const next = rawArgs[i + 1];
        if (next === undefined || (next.startsWith("-") && next !== "-")) throw needsValue(`--${name}`);
        checkValue(flag, `--${name}`, next);
        i++;
      }
      continue;
    }
    // short flags: `-f`, `-fy` (booleans together), `-e K=V`, `-eK=V`
    const letters = arg.slice(1);
    for (let j = 0; j < letters.length; j++) {
      const flag = byShort.get(letters[j]!);
      if (!flag) throw usageError(`unknown option -${letters[j]} for \`${command}\`${letters.length === 1 ? didYouMean(`-${letters}`, known) : ""} (${help})`, "unknown_option");
      if (flag.type === "boolean") continue;
      if (j > 0) throw usageError(`-${letters[j]} takes a value: write it on its own (-${letters[j]} <value>)`, "missing_value");
      const inline = letters.slice(j + 1).replace(/^=/, "");
      if (inline) checkValue(flag, `-${letters[j]}`, inline);
      else {
        const next = rawArgs[i + 1];
        if (next === undefined || (next.startsWith("-") && next !== "-")) throw needsValue(`-${letters[j]}`);
        checkValue(flag, `-${letters[j]}`, next);
        i++;
      }
      break;
    }
  }
  const extra = given.slice(positionals);
  if (extra.length) {
    throw usageError(`unexpected argument${extra.length > 1 ? "s" : ""} ${extra.map((a) => JSON.stringify(a)).join(" ")} for \`${command}\` (${help})`, "unexpected_argument");
  }
  return given;
}
