/**
 * The fingerprint of the UI source tree, written into the build as `build-info.json`.
 *
 * tests/unit/test_ui_build.py recomputes it with the same rules, so a source change without a
 * rebuild fails the test suite. Rules: every file under ui/ except those inside `node_modules`
 * or a dot-named entry; sorted by relative POSIX path; each contributes
 * `<path>\0<sha256 of its content with CRLF turned into LF>\n` to one SHA-256.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import type { Plugin } from "vite";

function listFiles(root: string, dir: string = root): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...listFiles(root, path));
    else if (entry.isFile()) files.push(relative(root, path).split(sep).join("/"));
  }
  return files;
}

export function sourceHash(root: string): string {
  const digest = createHash("sha256");
  const files = listFiles(root).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const file of files) {
    const text = readFileSync(join(root, file)).toString("latin1").replace(/\r\n/g, "\n");
    const content = createHash("sha256").update(Buffer.from(text, "latin1")).digest("hex");
    digest.update(`${file}\0${content}\n`, "utf8");
  }
  return digest.digest("hex");
}

export function buildInfo(root: string): Plugin {
  return {
    name: "lanner-build-info",
    apply: "build",
    generateBundle() {
      const info = { sourceHash: sourceHash(root), algorithm: "sha256-tree-v1" };
      this.emitFile({
        type: "asset",
        fileName: "build-info.json",
        source: JSON.stringify(info, null, 2) + "\n",
      });
    },
  };
}
