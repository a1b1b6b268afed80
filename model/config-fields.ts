// Config fields and checks shared by the Llama/OLMo-2 and raven config readers.
import { z } from "zod";
import { ModelConfigError, UnsupportedArchitectureError } from "./errors.ts";
import type { RopeScalingLlama3 } from "./weights.ts";

export const idOrIds = z.union([z.number().int(), z.array(z.number().int())]).nullish();

export const RopeScalingSchema = z
  .object({
    rope_type: z.string().optional(),
    type: z.string().optional(),
    factor: z.number().optional(),
    low_freq_factor: z.number().optional(),
    high_freq_factor: z.number().optional(),
    original_max_position_embeddings: z.number().optional(),
  })
  .nullish();

export function parseWith<T>(schema: z.ZodType<T>, record: unknown, where: string): T {
  const parsed = schema.safeParse(record);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new ModelConfigError(
    `${where}: field ${issue.path.join(".") || "(root)"}: ${issue.message}; fix config.json`,
  );
}

export function checkHeads(where: string, heads: number, kvHeads: number, headDim: number): void {
  if (!Number.isInteger(headDim)) unsupported(where, "hidden size not divisible by the head count");
  if (heads % kvHeads !== 0) {
    throw new ModelConfigError(
      `${where}: num_attention_heads ${heads} is not a multiple of num_key_value_heads ${kvHeads}`,
    );
  }
}

export function ropeScalingOf(
  scaling: z.infer<typeof RopeScalingSchema>,
  where: string,
): RopeScalingLlama3 | null {
  if (!scaling) return null;
  const type = scaling.rope_type ?? scaling.type;
  if (type === "default") return null;
  if (type !== "llama3") unsupported(where, `rope_scaling type "${type}" (only llama3)`);
  return {
    type: "llama3",
    factor: scaling.factor ?? 8,
    lowFreqFactor: scaling.low_freq_factor ?? 1,
    highFreqFactor: scaling.high_freq_factor ?? 4,
    originalMaxPositionEmbeddings: scaling.original_max_position_embeddings ?? 8192,
  };
}

export function unsupported(where: string, what: string): never {
  throw new UnsupportedArchitectureError(`${where}: ${what} is not supported by evals`);
}

export function firstId(value: number | number[] | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : value;
}

export function allIds(value: number | number[] | null | undefined): number[] {
  if (value === null || value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
