// A small event emitter with once, off and wildcard listeners (closures over Maps).
class Emitter {
  #handlers = new Map();
  on(event, fn) {
    if (!this.#handlers.has(event)) this.#handlers.set(event, []);
    this.#handlers.get(event).push(fn);
    return () => this.off(event, fn);
  }
  once(event, fn) {
    const wrapper = (...args) => { this.off(event, wrapper); fn(...args) };
    return this.on(event, wrapper);
  }
  off(event, fn) {
    const list = this.#handlers.get(event) ?? [];
    const i = list.indexOf(fn);
    if (i >= 0) list.splice(i, 1);
  }
  emit(event, ...args) {
    for (const fn of [...(this.#handlers.get(event) ?? []), ...(this.#handlers.get("*") ?? [])]) fn(...args, event);
    return this;
  }
}
const e = new Emitter(), seen = [];
const stop = e.on("data", (x) => seen.push(`on:${x}`));
e.once("data", (x) => seen.push(`once:${x}`));
e.on("*", (x, ev) => seen.push(`*:${ev}:${x}`));
e.emit("data", 1).emit("data", 2);
stop();
e.emit("data", 3).emit("other", 4);
console.log(seen.join(" "));
