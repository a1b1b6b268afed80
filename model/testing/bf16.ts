// bfloat16 as torch stores it: round to nearest even on the top 16 bits of the float32.
export function bf16Rounded(values: Float32Array): Float32Array {
  const bits = new Uint32Array(values.slice().buffer);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i];
    bits[i] = ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) << 16;
  }
  return new Float32Array(bits.buffer);
}
