// The one `Range: bytes=…` form the blob route serves (RFC 9110 §14.1.2): a single first-last,
// first-, or -suffix range. Anything else is refused with 416, never answered with the whole file
// under a 206.

export interface ByteRange {
  offset: number;
  length: number;
}

/** The range `header` asks of a `size`-byte file, or a reason it cannot be served. */
export function parseByteRange(header: string, size: number): ByteRange | { refused: string } {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === "" && match[2] === "")) {
    return {
      refused: `Range "${header}": expected one range as bytes=first-last, bytes=first- or bytes=-suffix`,
    };
  }
  const [first, last] = [match[1], match[2]].map((d) => (d === "" ? null : Number(d)));
  if (first === null) {
    // bytes=-N: the last N bytes.
    const suffix = last as number;
    if (suffix === 0 || size === 0) return { refused: `Range "${header}": selects no bytes` };
    const length = Math.min(suffix, size);
    return { offset: size - length, length };
  }
  if (last !== null && last < first) {
    return { refused: `Range "${header}": the last byte is before the first` };
  }
  if (first >= size) {
    return { refused: `Range "${header}": starts past the end of the ${size}-byte file` };
  }
  const end = Math.min(last ?? size - 1, size - 1);
  return { offset: first, length: end - first + 1 };
}
