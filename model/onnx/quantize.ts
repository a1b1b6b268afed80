// Block-wise weight quantization in the storage layout of onnxruntime's `com.microsoft`
// MatMulNBits and GatherBlockQuantized (model/graphs.md, "Quantized graphs"). Asymmetric: each
// block of `blockSize` consecutive weights along K gets a float scale and a uint zero point, and
// a weight dequantizes to (q − zero_point) · scale.

export type QuantBits = 4 | 8;

export interface BlockQuantized {
  /** Codes, [rows, blocks, blockSize · bits / 8] bytes, packed low nibble first for 4 bits. */
  data: Uint8Array;
  /** One scale per block, [rows, blocks] row-major. */
  scales: Float32Array;
  /** One zero point per block, [rows, ceil(blocks · bits / 8)] bytes (each row byte-aligned). */
  zeroPoints: Uint8Array;
  rows: number;
  blocks: number;
}

/**
 * Quantizes a row-major [rows, cols] matrix block-wise along each row (cols = K, the reduction
 * axis). A last partial block is padded with zeros. The range of each block is widened to include
 * 0 so that 0 is exactly representable; codes round half away from zero, so the result depends
 * only on the input.
 */
export function quantizeBlockwise(
  w: Float32Array,
  rows: number,
  cols: number,
  bits: QuantBits,
  blockSize: number,
): BlockQuantized {
  if (w.length !== rows * cols) throw new Error(`expected ${rows}×${cols} values, got ${w.length}`);
  if (!(blockSize >= 16 && (blockSize & (blockSize - 1)) === 0)) {
    throw new Error(`block size ${blockSize}: must be a power of two ≥ 16`);
  }
  const levels = (1 << bits) - 1;
  const blocks = Math.ceil(cols / blockSize);
  const blobBytes = (blockSize * bits) / 8;
  const zpRowBytes = Math.ceil((blocks * bits) / 8);
  const data = new Uint8Array(rows * blocks * blobBytes);
  const scales = new Float32Array(rows * blocks);
  const zeroPoints = new Uint8Array(rows * zpRowBytes);
  const codes = new Uint8Array(blockSize);
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < blocks; b++) {
      const start = r * cols + b * blockSize;
      const length = Math.min(blockSize, cols - b * blockSize);
      let lo = 0;
      let hi = 0;
      for (let i = 0; i < length; i++) {
        const v = w[start + i];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      // Scales are stored as float32: compute the code from the stored value, not a wider one.
      const scale = Math.fround(hi > lo ? (hi - lo) / levels : 1);
      const zeroPoint = clamp(roundHalfAway(-lo / scale), levels);
      codes.fill(zeroPoint); // padding of a partial block dequantizes to 0
      for (let i = 0; i < length; i++) {
        codes[i] = clamp(roundHalfAway(w[start + i] / scale) + zeroPoint, levels);
      }
      const block = r * blocks + b;
      scales[block] = scale;
      packInto(data, block * blobBytes, codes, bits);
      setPacked(zeroPoints, r * zpRowBytes, b, zeroPoint, bits);
    }
  }
  return { data, scales, zeroPoints, rows, blocks };
}

function roundHalfAway(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

function clamp(q: number, levels: number): number {
  return Math.min(levels, Math.max(0, q));
}

function packInto(out: Uint8Array, offset: number, codes: Uint8Array, bits: QuantBits): void {
  if (bits === 8) {
    out.set(codes, offset);
    return;
  }
  for (let i = 0; i < codes.length; i += 2) {
    out[offset + i / 2] = codes[i] | (codes[i + 1] << 4);
  }
}

function setPacked(
  out: Uint8Array,
  rowOffset: number,
  index: number,
  value: number,
  bits: QuantBits,
): void {
  if (bits === 8) {
    out[rowOffset + index] = value;
    return;
  }
  const at = rowOffset + (index >> 1);
  out[at] = index & 1 ? (out[at] & 0x0f) | (value << 4) : (out[at] & 0xf0) | value;
}

/** int8 weights of the i8 graphs' `MatMulInteger` (model/graphs.md, "int8 graphs"). */
export interface ColumnQuantized {
  /** Codes of Wᵀ, [K, N] row-major (the operator's B), each in −127..127. */
  codes: Int8Array;
  /** One scale per output column n, [N]. */
  scales: Float32Array;
}

/**
 * Quantizes W [N, K] (Hugging Face's [out, in] layout) to int8, symmetric, one scale per output
 * row n (a column of the operator's B = Wᵀ): scale = max |w| / 127 stored as float32 (1 for an
 * all-zero row), q = round(w / scale) rounding half away from zero, so −127..127 and 0 exact.
 */
export function quantizeColumnsSymmetric(w: Float32Array, n: number, k: number): ColumnQuantized {
  if (w.length !== n * k) throw new Error(`expected ${n}×${k} values, got ${w.length}`);
  const codes = new Int8Array(k * n);
  const scales = new Float32Array(n);
  for (let row = 0; row < n; row++) {
    let max = 0;
    for (let i = 0; i < k; i++) max = Math.max(max, Math.abs(w[row * k + i]));
    const scale = Math.fround(max > 0 ? max / 127 : 1);
    scales[row] = scale;
    for (let i = 0; i < k; i++) {
      const q = roundHalfAway(w[row * k + i] / scale);
      codes[i * n + row] = Math.max(-127, Math.min(127, q));
    }
  }
  return { codes, scales };
}
