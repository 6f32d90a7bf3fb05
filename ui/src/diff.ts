/** A line diff (longest common subsequence) for comparing two flow revisions. */

export interface DiffLine {
  kind: "same" | "added" | "removed";
  text: string;
  left?: number;
  right?: number;
}

export function diffLines(before: string, after: string): DiffLine[] {
  const a = before.split("\n");
  const b = after.split("\n");
  const n = a.length;
  const m = b.length;
  if (n * m > 4_000_000) {
    return [...a.map((text, i) => ({ kind: "removed" as const, text, left: i + 1 })), ...b.map((text, j) => ({ kind: "added" as const, text, right: j + 1 }))];
  }
  const table = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[i][j] = a[i] === b[j] ? table[i + 1][j + 1] + 1 : Math.max(table[i + 1][j], table[i][j + 1]);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push({ kind: "same", text: a[i], left: i + 1, right: j + 1 });
      i++;
      j++;
    } else if (table[i + 1][j] >= table[i][j + 1]) {
      out.push({ kind: "removed", text: a[i], left: i + 1 });
      i++;
    } else {
      out.push({ kind: "added", text: b[j], right: j + 1 });
      j++;
    }
  }
  while (i < n) out.push({ kind: "removed", text: a[i], left: ++i });
  while (j < m) out.push({ kind: "added", text: b[j], right: ++j });
  return out;
}
