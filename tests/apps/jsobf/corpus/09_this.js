// this: methods, call/apply/bind, arrows capturing this, constructors, callbacks.
const counter = {
  n: 0,
  inc() { this.n++; return this },
  later() { return [1, 2, 3].map(x => x + this.n) },
  lost() { return [1].map(function () { return this === undefined || this === globalThis })[0] },
};
console.log(counter.inc().inc().n, counter.later().join(","), counter.lost());
function greet(greeting, mark) { return `${greeting}, ${this.name}${mark}` }
const ann = { name: "Ann" };
console.log(greet.call(ann, "Hi", "!"), greet.apply(ann, ["Yo", "?"]), greet.bind(ann, "Hey")("."));
function Person(name) { this.name = name; this.say = () => this.name }
const bob = new Person("Bob");
const say = bob.say;
console.log(say());
class Btn { constructor() { this.clicks = 0; this.onClick = this.onClick.bind(this) } onClick() { return ++this.clicks } }
const b = new Btn(); const handler = b.onClick; handler(); console.log(handler());
const obj = { value: 42, get doubled() { return this.value * 2 } };
console.log(Object.create(obj, { value: { value: 1 } }).doubled);
