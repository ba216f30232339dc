// Proxy and Reflect: traps for get/set/has/deleteProperty, validation, logging.
const log = [];
const target = { a: 1, secret: 2 };
const proxy = new Proxy(target, {
  get(t, prop, receiver) { log.push(`get ${String(prop)}`); return prop in t ? Reflect.get(t, prop, receiver) : `no ${String(prop)}` },
  set(t, prop, value) { if (typeof value !== "number") return false; t[prop] = value * 2; return true },
  has(t, prop) { return prop !== "secret" && prop in t },
  deleteProperty(t, prop) { log.push(`delete ${prop}`); return delete t[prop] },
  ownKeys(t) { return Reflect.ownKeys(t).filter(k => k !== "secret") },
});
proxy.b = 5;
console.log(proxy.a, proxy.b, proxy.zzz, "secret" in proxy, "a" in proxy);
delete proxy.a;
console.log(Object.keys(proxy).join(), log.join("; "));
console.log(Reflect.has({ x: 1 }, "x"), Reflect.ownKeys({ y: 1, [Symbol.iterator]: 0 }).length);
const strict = new Proxy({}, { set() { return false } });
try { (function () { "use strict"; strict.x = 1 })() } catch (e) { console.log(e.constructor === TypeError) }
