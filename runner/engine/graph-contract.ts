// Checks that a checkpoint's sessions have exactly the inputs and outputs its manifest implies
// (model/graphs.md), so a mismatched or hand-edited graph fails before generation starts.

import { graphSet } from "../../model/graph-sets.ts";
import type { GraphVariantName, Manifest } from "../../model/manifest.ts";
import { GraphContractError } from "./errors.ts";

interface NamedSession {
  inputNames: readonly string[];
  outputNames: readonly string[];
}

export function expectedGraphIo(graph: "prelude" | "block" | "coda", layers: number) {
  const kvIn = Array.from({ length: layers }, (_, i) => [
    `past_key_values.${i}.key`,
    `past_key_values.${i}.value`,
  ]).flat();
  const kvOut = Array.from({ length: layers }, (_, i) => [
    `present.${i}.key`,
    `present.${i}.value`,
  ]).flat();
  const own = {
    prelude: { inputs: ["input_ids"], outputs: ["e"] },
    block: { inputs: ["e", "state"], outputs: ["state_out"] },
    coda: { inputs: ["state", "num_logits_to_keep"], outputs: ["logits"] },
  }[graph];
  return {
    inputs: [...own.inputs, "attention_mask", "position_ids", ...kvIn],
    outputs: [...own.outputs, ...kvOut],
  };
}

export function checkGraphContract(
  manifest: Manifest,
  sessions: { prelude: NamedSession; block: NamedSession | null; coda: NamedSession },
  variant: GraphVariantName | null = null,
): void {
  const parts = ["prelude", "block", "coda"] as const;
  for (const part of parts) {
    const session = sessions[part];
    const layers = manifest.layers[part].length;
    if (!session) {
      if (layers > 0)
        throw new GraphContractError(`the manifest has ${layers} block layers but no block graph`);
      continue;
    }
    const expected = expectedGraphIo(part, layers);
    const missingIn = expected.inputs.filter((name) => !session.inputNames.includes(name));
    const extraIn = session.inputNames.filter((name) => !expected.inputs.includes(name));
    const missingOut = expected.outputs.filter((name) => !session.outputNames.includes(name));
    if (missingIn.length || extraIn.length || missingOut.length) {
      const file = graphSet(manifest, variant)[part]?.file ?? `${part}.onnx`;
      const detail = [
        missingIn.length ? `missing inputs ${missingIn.slice(0, 3).join(", ")}` : "",
        extraIn.length ? `unexpected inputs ${extraIn.slice(0, 3).join(", ")}` : "",
        missingOut.length ? `missing outputs ${missingOut.slice(0, 3).join(", ")}` : "",
      ]
        .filter(Boolean)
        .join("; ");
      throw new GraphContractError(
        `${file} disagrees with recurrent.json (${layers} ${part} layers): ${detail}; re-export the checkpoint`,
      );
    }
  }
}
