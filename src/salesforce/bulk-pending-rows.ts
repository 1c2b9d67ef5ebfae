/** A row of a Bulk ingest job whose result was not read yet. */
export interface PendingBulkRow {
  /** Position in the caller's input. */
  index: number;
  /** The caller's id for the record, handed back with its result. */
  externalId: string;
}

/**
 * The rows of the Bulk ingest job in flight by normalised key, from upload until their result is
 * read. A job holds up to 150,000 rows: as a `Map` of key strings that was 11 MB of V8 heap (the
 * table alone 7 MB), a sixth of a 64 MB heap. Here keys (UTF-8) and positions live in buffers
 * and typed arrays, outside the V8 heap (under 100 bytes a row with its key), behind an
 * open-addressing hash table. Lookups are exact: a hash match is confirmed against the stored key.
 */
export class PendingBulkRows {
  #bytes = Buffer.allocUnsafeSlow(64 * 1024);
  #used = 0;
  /** Per entry: start of its key in `#bytes`, the key's length, the external id's length + 1 (0: the key is the external id). */
  #slots = new Uint32Array(3 * 1024);
  #indexes = new Float64Array(1024);
  #hashes = new Uint32Array(1024);
  #taken = new Uint8Array(1024);
  /** Entry number + 1 per slot, 0 for an empty slot (linear probing). */
  #table = new Int32Array(2048);
  #count = 0;
  #size = 0;

  /** Rows added and not taken yet. */
  get size(): number {
    return this.#size;
  }

  /** Add the row of `key` (normalised; not in the set yet). */
  add(key: string, index: number, externalId: string): void {
    if (2 * (this.#count + 1) > this.#table.length) this.#growTable();
    if (this.#count >= this.#indexes.length) this.#growEntries();
    const entry = this.#count++;
    const keyBytes = this.#write(key);
    const at = this.#used - keyBytes;
    const externalBytes = externalId === key ? 0 : this.#write(externalId) + 1;
    this.#slots[3 * entry] = at;
    this.#slots[3 * entry + 1] = keyBytes;
    this.#slots[3 * entry + 2] = externalBytes;
    this.#indexes[entry] = index;
    const h = hash(key);
    this.#hashes[entry] = h;
    this.#taken[entry] = 0;
    this.#place(entry, h);
    this.#size += 1;
  }

  /** Whether the row of `key` is pending. */
  has(key: string): boolean {
    return this.#find(key) >= 0;
  }

  /** The row of `key`, taken out of the set; `undefined` when it is not pending (never added, or taken). */
  take(key: string): PendingBulkRow | undefined {
    const entry = this.#find(key);
    if (entry < 0) return undefined;
    this.#taken[entry] = 1;
    this.#size -= 1;
    return { index: this.#indexes[entry] as number, externalId: this.#externalId(entry, key) };
  }

  /** The rows not taken, in the order added, with their keys. */
  *remaining(): Generator<PendingBulkRow & { key: string }> {
    for (let entry = 0; entry < this.#count; entry++) {
      if (this.#taken[entry]) continue;
      const key = this.#key(entry);
      yield { key, index: this.#indexes[entry] as number, externalId: this.#externalId(entry, key) };
    }
  }

  /** Take every row. */
  clear(): void {
    this.#taken.fill(1, 0, this.#count);
    this.#size = 0;
  }

  #find(key: string): number {
    const h = hash(key);
    const table = this.#table;
    const mask = table.length - 1;
    for (let at = h & mask; ; at = (at + 1) & mask) {
      const slot = table[at] as number;
      if (slot === 0) return -1;
      const entry = slot - 1;
      if (this.#hashes[entry] === h && !this.#taken[entry] && this.#key(entry) === key) return entry;
    }
  }

  #key(entry: number): string {
    const at = this.#slots[3 * entry] as number;
    return this.#bytes.toString('utf8', at, at + (this.#slots[3 * entry + 1] as number));
  }

  #externalId(entry: number, key: string): string {
    const externalBytes = this.#slots[3 * entry + 2] as number;
    if (externalBytes === 0) return key;
    const at = (this.#slots[3 * entry] as number) + (this.#slots[3 * entry + 1] as number);
    return this.#bytes.toString('utf8', at, at + externalBytes - 1);
  }

  /** Append `text` to the key bytes; returns its length in bytes. */
  #write(text: string): number {
    // Three UTF-8 bytes at most per UTF-16 unit.
    if (this.#used + 3 * text.length > this.#bytes.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(2 * this.#bytes.length, this.#used + 3 * text.length));
      this.#bytes.copy(grown, 0, 0, this.#used);
      this.#bytes = grown;
    }
    const written = this.#bytes.write(text, this.#used, 'utf8');
    this.#used += written;
    return written;
  }

  #place(entry: number, h: number): void {
    const table = this.#table;
    const mask = table.length - 1;
    let at = h & mask;
    while (table[at] !== 0) at = (at + 1) & mask;
    table[at] = entry + 1;
  }

  #growTable(): void {
    this.#table = new Int32Array(2 * this.#table.length);
    for (let entry = 0; entry < this.#count; entry++) this.#place(entry, this.#hashes[entry] as number);
  }

  #growEntries(): void {
    const capacity = 2 * this.#indexes.length;
    const slots = new Uint32Array(3 * capacity);
    slots.set(this.#slots);
    this.#slots = slots;
    const indexes = new Float64Array(capacity);
    indexes.set(this.#indexes);
    this.#indexes = indexes;
    const hashes = new Uint32Array(capacity);
    hashes.set(this.#hashes);
    this.#hashes = hashes;
    const taken = new Uint8Array(capacity);
    taken.set(this.#taken);
    this.#taken = taken;
  }
}

/** 32-bit FNV-1a over the UTF-16 units of `key`, mixed (MurmurHash3's finaliser) so low bits spread. */
function hash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
