// Number and text formats shared by the pages.

/** 0.625 → "62.5%". */
export function percent(x: number | null | undefined, digits = 1): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "—";
  return `${(100 * x).toFixed(digits)}%`;
}

/** A difference of proportions in percentage points with its sign: −0.375 → "−37.5 pts". */
export function points(delta: number): string {
  const value = (100 * delta).toFixed(1);
  if (delta > 0) return `+${value} pts`;
  if (delta < 0) return `−${value.slice(1)} pts`;
  return "0.0 pts";
}

/** 3.2e9 → "3.20 GFLOP". */
export function flops(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "—";
  const units = ["", "k", "M", "G", "T", "P", "E"];
  let value = x;
  let unit = 0;
  while (Math.abs(value) >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toPrecision(3)} ${units[unit]}FLOP`;
}

export function pValue(p: number): string {
  if (p < 0.001) return "<0.001";
  return p >= 0.995 ? "1.00" : p.toPrecision(2);
}

export function shortHash(hash: string): string {
  return hash.slice(0, 10);
}

export function count(n: number): string {
  return n.toLocaleString("en-US");
}

/** What tells checkpoints apart, in one line: flavour · P·B·C · adapter · hash. */
export function checkpointFacts(
  checkpointId: string,
  checkpoint:
    | {
        layers: { prelude: number; block: number; coda: number };
        provenance: { flavour: string; adapter: string };
      }
    | undefined,
): string {
  const parts = checkpoint
    ? [
        checkpoint.provenance.flavour,
        `P·B·C ${checkpoint.layers.prelude}·${checkpoint.layers.block}·${checkpoint.layers.coda}`,
        checkpoint.provenance.adapter === "none"
          ? "no adapter"
          : `adapter ${checkpoint.provenance.adapter}`,
      ]
    : [];
  return [...parts, shortHash(checkpointId)].join(" · ");
}
