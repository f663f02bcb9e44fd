/** The columns of the hba engine are typed arrays that grow by doubling. */
export type Column = Int32Array | Uint16Array | Uint8Array;

/** A copy of `array` twice as long, its first half the same. */
export function doubled<T extends Column>(array: T): T {
  const bigger = new (array.constructor as new (length: number) => T)(array.length * 2);
  bigger.set(array);
  return bigger;
}
