// Classes: inheritance, super, static members, private fields and methods, accessors.
class Shape {
  static count = 0;
  #id;
  constructor(name) { this.name = name; this.#id = ++Shape.count }
  get id() { return this.#id }
  area() { return 0 }
  describe() { return `${this.name}#${this.id} area=${this.area().toFixed(2)}` }
  static compare(a, b) { return a.area() - b.area() }
}
class Circle extends Shape {
  #r;
  constructor(r) { super("circle"); this.#r = r }
  area() { return Math.PI * this.#r ** 2 }
  get radius() { return this.#r }
  set radius(v) { if (v > 0) this.#r = v }
  static isCircle(o) { return #r in o }
}
class Rect extends Shape {
  constructor(w, h) { super("rect"); Object.assign(this, { w, h }) }
  area() { return this.w * this.h }
  describe() { return super.describe() + ` (${this.w}x${this.h})` }
  #secret() { return this.w + this.h }
  perimeter() { return 2 * this.#secret() }
  static { Rect.unit = new Rect(1, 1) }
}
const shapes = [new Circle(2), new Rect(3, 4), new Circle(1)];
shapes.sort(Shape.compare);
for (const s of shapes) console.log(s.describe());
const c = shapes[0];
c.radius = 5; c.radius = -1;
console.log(c.radius, Rect.unit.perimeter(), Shape.count, c instanceof Shape, Circle.isCircle(c), Circle.isCircle(Rect.unit));
