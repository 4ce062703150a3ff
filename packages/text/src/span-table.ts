/** Slots of an empty table. */
const INITIAL_SLOTS = 1024;

/**
 * Values by piece of text, for the texts' pieces that repeat (words, numbers, punctuation): an
 * open-addressing table keyed by a hash of the piece's characters, whose keys are compared in place in the
 * text being read. A piece found here is neither sliced out of its text nor hashed again by a `Map`; only a
 * piece seen for the first time is sliced, to be kept. Starts small and doubles as it fills (its slots at
 * most half used); holds at most `capacity` pieces and is emptied when full.
 */
export class SpanTable<V> {
  private mask = INITIAL_SLOTS - 1;
  private slots = new Int32Array(INITIAL_SLOTS);
  private hashes = new Int32Array(INITIAL_SLOTS / 2);
  private readonly keys: string[] = [];
  private readonly values: V[] = [];
  /** Where the last lookup that missed would put its piece. */
  private missedHash = 0;
  private missedSlot = -1;

  constructor(private readonly capacity: number) {}

  /** The value of `text.slice(start, end)`, or `undefined` (then {@link add} may keep that piece's value). */
  get(text: string, start: number, end: number): V | undefined {
    let hash = 0x811c9dc5 ^ (end - start);
    for (let i = start; i < end; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
    const { slots, hashes, keys, mask } = this;
    let slot = hash & mask;
    for (let entry = slots[slot]!; entry !== 0; entry = slots[slot]!) {
      const key = keys[entry - 1]!;
      if (hashes[entry - 1] === hash && key.length === end - start && text.startsWith(key, start)) return this.values[entry - 1];
      slot = (slot + 1) & mask;
    }
    this.missedHash = hash;
    this.missedSlot = slot;
    return undefined;
  }

  /** Keeps `value` for `piece`, the piece the last {@link get} missed (and nothing since changed the table). */
  add(piece: string, value: V): void {
    if (this.missedSlot < 0) throw new Error('SpanTable.add without a lookup that missed');
    if (this.keys.length >= this.capacity) {
      // Full: emptied; the piece is kept at its next lookup.
      this.clear();
      return;
    }
    if (this.keys.length >= this.hashes.length) {
      this.grow();
      this.missedSlot = this.freeSlot(this.missedHash);
    }
    this.keys.push(piece);
    this.values.push(value);
    this.hashes[this.keys.length - 1] = this.missedHash;
    this.slots[this.missedSlot] = this.keys.length;
    this.missedSlot = -1;
  }

  /** Twice the slots, every piece put back in its new place (by the hash kept with it). */
  private grow(): void {
    const size = this.slots.length * 2;
    this.mask = size - 1;
    this.slots = new Int32Array(size);
    const hashes = new Int32Array(size / 2);
    hashes.set(this.hashes);
    this.hashes = hashes;
    for (let entry = 1; entry <= this.keys.length; entry++) this.slots[this.freeSlot(hashes[entry - 1]!)] = entry;
  }

  private freeSlot(hash: number): number {
    let slot = hash & this.mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & this.mask;
    return slot;
  }

  /** How many pieces it holds. */
  get size(): number {
    return this.keys.length;
  }

  clear(): void {
    this.mask = INITIAL_SLOTS - 1;
    this.slots = new Int32Array(INITIAL_SLOTS);
    this.hashes = new Int32Array(INITIAL_SLOTS / 2);
    this.keys.length = 0;
    this.values.length = 0;
    this.missedSlot = -1;
  }
}
