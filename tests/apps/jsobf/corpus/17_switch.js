// switch: fall-through, default in the middle, block-scoped declarations per case, strings.
function classify(x) {
  const out = [];
  switch (typeof x) {
    case "number": {
      const kind = x % 2 ? "odd" : "even";
      out.push(kind);
    }
    // fall through
    case "bigint":
      out.push("numeric");
      break;
    default:
      out.push("other");
    case "string":
      out.push("maybe-text");
  }
  return out.join("+");
}
console.log(classify(3), classify(4n), classify("s"), classify(null));
function grade(score) {
  switch (true) {
    case score >= 90: return "A";
    case score >= 80: return "B";
    default: return "C";
  }
}
console.log([95, 85, 50].map(grade).join(""));
let acc = "";
for (const ch of "abcab") {
  switch (ch) { case "a": acc += 1; continue; case "b": acc += 2; break; default: acc += 0 }
  acc += ".";
}
console.log(acc);
