// Labels: break and continue to outer loops, labeled blocks.
const found = [];
outer: for (let i = 0; i < 5; i++) {
  inner: for (let j = 0; j < 5; j++) {
    if (j > i) continue outer;
    if (i + j === 6) break outer;
    if ((i * j) % 2) continue inner;
    found.push(`${i}${j}`);
  }
}
console.log(found.join(" "));
function search(grid, target) {
  let where = null;
  rows: for (let r = 0; r < grid.length; r++) {
    for (let c = 0; c < grid[r].length; c++) {
      if (grid[r][c] === target) { where = [r, c]; break rows; }
    }
  }
  return where;
}
console.log(search([[1, 2], [3, 4], [5, 6]], 4));
block: {
  console.log("in block");
  if (found.length) break block;
  console.log("never");
}
let n = 0;
loop: do { n++; if (n < 3) continue loop; break; } while (true);
console.log(n);
