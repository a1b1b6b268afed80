// Parsers for command-line values; each error names the flag and what it accepts.
import { EvalsError } from "../errors.ts";

export function parseInteger(
  text: string,
  flag: string,
  min = Number.MIN_SAFE_INTEGER,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (!/^-?\d+$/.test(text.trim())) throw new EvalsError(`${flag} "${text}" must be an integer`);
  const value = Number(text);
  if (value < min || value > max)
    throw new EvalsError(`${flag} ${value} must be between ${min} and ${max}`);
  return value;
}

/** Parses `--recurrences 1,4,16,32`: distinct integers from 1 to 256. */
export function parseRecurrenceList(text: string, max = 256): number[] {
  const parts = text.split(",");
  const values = parts.map((part) => {
    const trimmed = part.trim();
    if (!/^\d+$/.test(trimmed)) {
      throw new EvalsError(
        `--recurrences "${text}": "${part}" is not a positive integer; write e.g. 1,4,16,32`,
      );
    }
    const value = Number(trimmed);
    if (value < 1 || value > max) {
      throw new EvalsError(`--recurrences "${text}": ${value} is outside 1..${max}`);
    }
    return value;
  });
  return [...new Set(values)];
}

/** Parses a comma-separated list of names. */
export function parseNameList(text: string, flag: string): string[] {
  const names = text.split(",").map((n) => n.trim());
  if (names.some((n) => n === "")) throw new EvalsError(`${flag} "${text}" has an empty entry`);
  return names;
}

/** Parses `--name`: 1 to 100 printable characters, the checkpoint's name in every listing. */
export function parseCheckpointName(text: string): string {
  const name = text.trim();
  if (name.length < 1 || name.length > 100 || /\p{Cc}/u.test(name)) {
    throw new EvalsError(`--name "${text}" must be 1 to 100 printable characters`);
  }
  return name;
}
