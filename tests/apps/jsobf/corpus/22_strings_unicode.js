// Strings: unicode, escapes, surrogate pairs, normalization, quotes of every kind.
const s = "naïve café – 日本語 😀";
console.log(s.length, [...s].length, s.codePointAt(s.length - 2).toString(16));
console.log("tab\there", 'single \'quoted\'', "double \"quoted\"", "back\\slash");
console.log("\x41\u0042\u{1F600}\0end".length, "\101\102" + "", "line\
continued");
console.log("e\u0301" === "é", "e\u0301".normalize() === "é", "ß".toUpperCase());
console.log("abc".padStart(6, "*"), "abc".at(-1), "a-b-c".replaceAll("-", "+"), " x ".trim() + "|");
const weird = "\u2028\u2029\r\n\v\f\b";
console.log(weird.length, JSON.stringify(weird));
console.log("\uD83D\uDE00" === "😀", "\uD800".length, String.fromCharCode(72, 105));
console.log("Ünïcödé".localeCompare("Unicode") !== 0, encodeURIComponent("a b&c"));
const key = "dyn" + "amic";
const obj = { "quoted key": 1, [key]: 2, 'single': 3, "": 4 };
console.log(JSON.stringify(obj), obj["quoted key"], obj[""]);
