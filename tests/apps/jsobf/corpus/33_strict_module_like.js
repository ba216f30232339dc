#!/usr/bin/env node
"use strict";
// Strict mode, an IIFE module pattern, getters on exports, frozen objects, new.target.
const Module = (function () {
  "use strict";
  const privateState = { calls: 0 };
  function Widget(label) {
    if (!new.target) return new Widget(label);
    this.label = label;
  }
  Widget.prototype.render = function () { privateState.calls++; return `[${this.label}]` };
  return Object.freeze({ Widget, get calls() { return privateState.calls } });
})();
const w = Module.Widget("ok"), w2 = new Module.Widget("new");
console.log(w.render(), w2.render(), Module.calls);
try { Module.extra = 1 } catch (e) { console.log("frozen:", e instanceof TypeError) }
try { undeclaredVariable = 1 } catch (e) { console.log("strict:", e instanceof ReferenceError) }
console.log((function () { return this })() === undefined);
const sealed = Object.seal({ a: 1 });
sealed.a = 2;
try { delete sealed.a } catch (e) { console.log("sealed:", sealed.a) }
