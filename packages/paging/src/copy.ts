/**
 * Byte copies between the memory's byte view and host arrays, without allocating a subarray
 * view for small copies. Internal to the package (not exported from index.ts).
 */

/**
 * Copies of at most this many bytes go through `stage` in two plain loops; longer ones `set`
 * from a subarray view. A host-time choice, measured in node 20 and bun.
 */
const SMALL_COPY = 16;

/**
 * Staging area of the small copies: every source byte is read before any destination byte is
 * written, so a host array that is itself a view of RAM's buffer (overlapping the other range)
 * gets the memmove result of `set` without the `buffer` getter (which in V8 and JSC moves a
 * small on-heap typed array's storage off the heap: an allocation per new host array).
 */
const stage = new Uint8Array(SMALL_COPY);

/**
 * Copies `n` bytes of `ram` (the memory's byte view) at `pa` to `dst[dstOffset..]`, as
 * `dst.set(ram.subarray(pa, pa + n), dstOffset)` does, including when `dst` shares ram's buffer
 * (memmove semantics). The caller has checked both ranges. Never throws.
 */
export function copyFromRam(
  ram: Uint8Array,
  pa: number,
  dst: Uint8Array,
  dstOffset: number,
  n: number,
): void {
  if (n <= SMALL_COPY) {
    for (let k = 0; k < n; k++) stage[k] = ram[pa + k];
    for (let k = 0; k < n; k++) dst[dstOffset + k] = stage[k];
  } else dst.set(ram.subarray(pa, pa + n), dstOffset);
}

/**
 * Copies `n` bytes of `src[srcOffset..]` into `ram` at `pa`, as
 * `ram.set(src.subarray(srcOffset, srcOffset + n), pa)` does, including when `src` shares ram's
 * buffer. The caller has checked both ranges. Never throws.
 */
export function copyToRam(src: Uint8Array, srcOffset: number, ram: Uint8Array, pa: number, n: number): void {
  if (n <= SMALL_COPY) {
    for (let k = 0; k < n; k++) stage[k] = src[srcOffset + k];
    for (let k = 0; k < n; k++) ram[pa + k] = stage[k];
  } else ram.set(src.subarray(srcOffset, srcOffset + n), pa);
}
