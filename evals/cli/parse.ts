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
