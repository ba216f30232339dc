// Data structures: linked list with iterator, binary search tree, priority queue.
class Node { constructor(value, next = null) { this.value = value; this.next = next } }
class List {
  head = null; size = 0;
  push(v) { this.head = new Node(v, this.head); this.size++; return this }
  *[Symbol.iterator]() { for (let n = this.head; n; n = n.next) yield n.value }
  reverse() { let prev = null, cur = this.head; while (cur) { [cur.next, prev, cur] = [prev, cur, cur.next] } this.head = prev; return this }
}
console.log([...new List().push(1).push(2).push(3).reverse()].join(""));
class BST {
  root = null;
  insert(v) {
    const node = { v, l: null, r: null };
    if (!this.root) { this.root = node; return }
    let cur = this.root;
    for (;;) { const side = v < cur.v ? "l" : "r"; if (!cur[side]) { cur[side] = node; return } cur = cur[side] }
  }
  *inorder(n = this.root) { if (n) { yield* this.inorder(n.l); yield n.v; yield* this.inorder(n.r) } }
  height(n = this.root) { return n ? 1 + Math.max(this.height(n.l), this.height(n.r)) : 0 }
}
const t = new BST();
[50, 30, 70, 20, 40, 60, 80, 35].forEach(v => t.insert(v));
console.log([...t.inorder()].join(","), t.height());
class Heap {
  #a = [];
  push(x) { const a = this.#a; a.push(x); let i = a.length - 1; while (i > 0) { const p = (i - 1) >> 1; if (a[p] <= a[i]) break; [a[p], a[i]] = [a[i], a[p]]; i = p } }
  pop() { const a = this.#a, top = a[0], last = a.pop(); if (a.length) { a[0] = last; let i = 0; for (;;) { let s = i; const l = 2 * i + 1, r = l + 1; if (l < a.length && a[l] < a[s]) s = l; if (r < a.length && a[r] < a[s]) s = r; if (s === i) break; [a[s], a[i]] = [a[i], a[s]]; i = s } } return top }
  get size() { return this.#a.length }
}
const h = new Heap();
[5, 3, 8, 1, 9, 2].forEach(x => h.push(x));
const sorted = []; while (h.size) sorted.push(h.pop());
console.log(sorted.join(" "));
