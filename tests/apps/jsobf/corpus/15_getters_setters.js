// Getters and setters on objects, classes, defineProperty; computed accessor names.
const temp = {
  _c: 25,
  get f() { return this._c * 9 / 5 + 32 },
  set f(v) { this._c = (v - 32) * 5 / 9 },
};
temp.f = 212;
console.log(temp._c, temp.f);
const key = "dyn";
const o = { get [key + "amic"]() { return "computed getter" } };
console.log(o.dynamic);
class Account {
  #balance = 0;
  static #instances = 0;
  constructor() { Account.#instances++ }
  get balance() { return this.#balance }
  set deposit(v) { if (v <= 0) throw new RangeError("positive only"); this.#balance += v }
  static get instances() { return Account.#instances }
}
const acc = new Account(); new Account();
acc.deposit = 50; acc.deposit = 25;
try { acc.deposit = -1 } catch (e) { console.log(e.name, e.message) }
console.log(acc.balance, Account.instances);
const p = {};
Object.defineProperty(p, "ro", { get() { return "read only" }, enumerable: false });
console.log(p.ro, Object.keys(p).length, JSON.stringify(Object.getOwnPropertyDescriptor(temp, "f").set !== undefined));
