/**
 * A set of strings that keeps a 53-bit hash of each in a typed array (8 bytes of memory per key,
 * outside the V8 heap's object graph) instead of the strings themselves. `has` may answer `true`
 * for a key never added when two keys share their hash (about one chance in 10^10 per lookup with
 * 200,000 keys): use it only where a false `true` is harmless (the push engine merely starts a
 * new provider call early).
 */
export class KeyHashSet {
  #table = new Float64Array(1024);
  #size = 0;

  get size(): number {
    return this.#size;
  }

  add(key: string): void {
    if (2 * (this.#size + 1) > this.#table.length) this.#grow();
    if (insert(this.#table, hash(key))) this.#size += 1;
  }

  has(key: string): boolean {
    const table = this.#table;
    const mask = table.length - 1;
    const h = hash(key);
    for (let at = h % table.length; ; at = (at + 1) & mask) {
      const slot = table[at] as number;
      if (slot === 0) return false;
      if (slot === h) return true;
    }
  }

  #grow(): void {
    const old = this.#table;
    this.#table = new Float64Array(old.length * 2);
    for (const h of old) if (h !== 0) insert(this.#table, h);
  }
}

/** Put `h` in `table` (linear probing); false when it was there. */
function insert(table: Float64Array, h: number): boolean {
  const mask = table.length - 1;
  for (let at = h % table.length; ; at = (at + 1) & mask) {
    const slot = table[at] as number;
    if (slot === h) return false;
    if (slot === 0) {
      table[at] = h;
      return true;
    }
  }
}

/** Two 32-bit FNV-1a variants combined into a non-zero integer below 2^53. */
function hash(key: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  return (a >>> 0) * 0x200000 + ((b >>> 0) & 0x1fffff) + 1;
}
