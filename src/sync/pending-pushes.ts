/**
 * Records handed to the provider whose outcome is not known yet, by their position in the
 * provider call's input. A Bulk job of 200,000 records answers only when the whole job is done, and
 * each record's status row needs what the engine knew when it sent it (its mapped fields, content
 * hash and previous status row): held as objects that would be hundreds of megabytes of V8 heap.
 * They are kept here as JSON in buffers instead (outside the V8 heap, about 300 bytes a record),
 * and read back one at a time as results arrive.
 */
export class PendingPushes<T> {
  readonly #blocks: Buffer[] = [];
  #block: Buffer;
  #used = 0;
  /** Per entry: block number, start and end offset (three slots an entry). */
  #slots = new Float64Array(3 * 1024);
  #count = 0;
  readonly #blockSize: number;
  readonly #revive: ((key: string, value: unknown) => unknown) | undefined;

  constructor(options: { blockSize?: number; revive?: (key: string, value: unknown) => unknown } = {}) {
    this.#blockSize = options.blockSize ?? 4 * 1024 * 1024;
    this.#revive = options.revive;
    this.#block = Buffer.allocUnsafeSlow(this.#blockSize);
    this.#blocks.push(this.#block);
  }

  /** How many entries were added. */
  get size(): number {
    return this.#count;
  }

  /** Add `value`; returns its position (0, 1, 2 … in the order added). */
  add(value: T): number {
    const json = JSON.stringify(value);
    const bytes = Buffer.byteLength(json);
    if (this.#used + bytes > this.#block.length) {
      this.#block = Buffer.allocUnsafeSlow(Math.max(this.#blockSize, bytes));
      this.#blocks.push(this.#block);
      this.#used = 0;
    }
    this.#block.write(json, this.#used, 'utf8');
    const at = this.#count++;
    if (3 * this.#count > this.#slots.length) {
      const grown = new Float64Array(this.#slots.length * 2);
      grown.set(this.#slots);
      this.#slots = grown;
    }
    this.#slots[3 * at] = this.#blocks.length - 1;
    this.#slots[3 * at + 1] = this.#used;
    this.#slots[3 * at + 2] = this.#used + bytes;
    this.#used += bytes;
    return at;
  }

  /** The entry at `position`, decoded afresh on each call. */
  get(position: number): T {
    if (!Number.isInteger(position) || position < 0 || position >= this.#count) {
      throw new RangeError(`No pending entry at ${position}`);
    }
    const block = this.#blocks[this.#slots[3 * position] as number] as Buffer;
    const text = block.toString('utf8', this.#slots[3 * position + 1], this.#slots[3 * position + 2]);
    return JSON.parse(text, this.#revive) as T;
  }
}
