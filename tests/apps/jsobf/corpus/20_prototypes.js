// Prototypes: constructor functions, prototype chains, Object.create, mixins, instanceof.
function Animal(name) { this.name = name }
Animal.prototype.speak = function () { return `${this.name} makes a sound` };
function Dog(name) { Animal.call(this, name) }
Dog.prototype = Object.create(Animal.prototype);
Dog.prototype.constructor = Dog;
Dog.prototype.speak = function () { return Animal.prototype.speak.call(this) + " (woof)" };
const d = new Dog("Rex");
console.log(d.speak(), d instanceof Animal, Object.getPrototypeOf(d) === Dog.prototype);
const canFly = { fly() { return `${this.name} flies` } };
const canSwim = { swim() { return `${this.name} swims` } };
const duck = Object.assign(Object.create({ name: "proto-duck" }), canFly, canSwim);
console.log(duck.fly(), duck.swim(), Object.hasOwn(duck, "name"), "name" in duck);
const bare = Object.create(null);
bare.k = 1;
console.log(typeof bare.toString, Object.keys(bare).join());
class Base { static create() { return new this() } who() { return "base" } }
class Derived extends Base { who() { return "derived<" + super.who() + ">" } }
console.log(Derived.create().who(), Object.getPrototypeOf(Derived) === Base);
