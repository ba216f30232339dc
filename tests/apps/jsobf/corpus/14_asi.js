// Automatic semicolon insertion: code written without semicolons, including the tricky cases.
let a = 1
let b = a
++b
console.log(a, b)
const f = () => {
  return
  42
}
console.log(f())
const list = [1, 2, 3]
;[4, 5].forEach(x => list.push(x))
console.log(list.join(""))
const g = function () { return "g" }
;(function () { console.log("iife runs") })()
let c = 1
c
--c
console.log(c)
const obj = { x: 1 }
const t = `t`
console.log(obj.x, t, g())
let i = 0
while (i < 3) i++
console.log(i)
var d = 10
var e = d
/2/1
console.log(e)
class K { a = 1
  b = 2;
  ['c'] = 3
  static d = 4
  m() { return this.a + this.b + this.c } }
console.log(new K().m(), K.d)
do i--; while (i > 0) console.log("after do", i)
