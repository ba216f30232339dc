// Custom iterators and iterables, Symbol usage, spreading custom iterables.
class Range {
  constructor(start, end, step = 1) { Object.assign(this, { start, end, step }) }
  [Symbol.iterator]() {
    let current = this.start;
    const { end, step } = this;
    return { next: () => current < end ? { value: (current += step) - step, done: false } : { value: undefined, done: true } };
  }
}
console.log([...new Range(0, 10, 3)].join(","));
const sym = Symbol("tag");
const o = { [sym]: "hidden", visible: true };
console.log(Object.keys(o).join(), o[sym], sym.description, typeof sym);
class Tagged { get [Symbol.toStringTag]() { return "TaggedThing" } }
console.log(Object.prototype.toString.call(new Tagged()));
const m = new Map([[1, "one"], [2, "two"]]);
const entries = m.entries();
console.log(entries.next().value.join(":"), [...m.keys()].join(), Array.from(m.values()).join());
const s = new Set("mississippi");
console.log([...s].join(""), s.size, s.has("s"));
const it = [10, 20, 30][Symbol.iterator]();
it.next();
console.log([...it].join("+"));
