/** CodeMirror 6 set-up shared by every editor of the UI: keys, gutters, colours from CSS variables. */
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { json } from "@codemirror/lang-json";
import { yaml } from "@codemirror/lang-yaml";
import {
  bracketMatching,
  foldGutter,
  foldKeymap,
  HighlightStyle,
  indentOnInput,
  syntaxHighlighting,
} from "@codemirror/language";
import { lintKeymap } from "@codemirror/lint";
import { highlightSelectionMatches, searchKeymap } from "@codemirror/search";
import { EditorState, type Extension } from "@codemirror/state";
import {
  drawSelection,
  EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
} from "@codemirror/view";
import { tags } from "@lezer/highlight";

export type Language = "yaml" | "json" | "plain";

const highlight = HighlightStyle.define([
  { tag: [tags.keyword, tags.bool, tags.null], color: "var(--syn-keyword)" },
  { tag: [tags.propertyName, tags.definition(tags.propertyName)], color: "var(--syn-property)" },
  { tag: [tags.string, tags.special(tags.string)], color: "var(--syn-string)" },
  { tag: [tags.number, tags.integer, tags.float], color: "var(--syn-number)" },
  { tag: [tags.comment, tags.lineComment, tags.blockComment], color: "var(--syn-comment)", fontStyle: "italic" },
  { tag: [tags.meta, tags.processingInstruction, tags.documentMeta], color: "var(--syn-meta)" },
  { tag: [tags.punctuation, tags.separator, tags.brace, tags.squareBracket], color: "var(--syn-punct)" },
  { tag: [tags.typeName, tags.labelName, tags.atom], color: "var(--syn-type)" },
  { tag: tags.invalid, color: "var(--danger)" },
]);

const theme = EditorView.theme({
  "&": { color: "var(--text)", backgroundColor: "var(--editor-bg)", fontSize: "13px" },
  ".cm-content": { fontFamily: "var(--mono)", caretColor: "var(--text)" },
  ".cm-gutters": { backgroundColor: "var(--editor-gutter)", color: "var(--muted)", borderRight: "1px solid var(--border)" },
  ".cm-activeLine": { backgroundColor: "var(--editor-active)" },
  ".cm-activeLineGutter": { backgroundColor: "var(--editor-active)" },
  "&.cm-focused": { outline: "2px solid var(--focus)", outlineOffset: "-2px" },
  "&.cm-focused .cm-cursor": { borderLeftColor: "var(--text)" },
  ".cm-selectionBackground, &.cm-focused .cm-selectionBackground, ::selection": {
    backgroundColor: "var(--editor-selection) !important",
  },
  ".cm-tooltip": { backgroundColor: "var(--surface)", color: "var(--text)", border: "1px solid var(--border)" },
  ".cm-tooltip-autocomplete ul li[aria-selected]": { backgroundColor: "var(--accent)", color: "var(--accent-text)" },
  ".cm-completionDetail": { color: "var(--muted)", fontStyle: "normal", marginLeft: "0.75em" },
  ".cm-tooltip-autocomplete ul li[aria-selected] .cm-completionDetail": { color: "inherit", opacity: "0.85" },
  ".cm-panels": { backgroundColor: "var(--surface-2)", color: "var(--text)" },
  ".cm-diagnostic-error": { borderLeftColor: "var(--danger)" },
  ".cm-diagnostic-warning": { borderLeftColor: "var(--warning)" },
});

export function languageExtension(language: Language): Extension {
  if (language === "yaml") return yaml();
  if (language === "json") return json();
  return [];
}

export interface SetupOptions {
  language: Language;
  readOnly?: boolean;
  lineNumbers?: boolean;
  extra?: Extension[];
  label?: string;
}

export function baseExtensions(options: SetupOptions): Extension[] {
  const extensions: Extension[] = [
    highlightSpecialChars(),
    drawSelection(),
    syntaxHighlighting(highlight),
    bracketMatching(),
    theme,
    languageExtension(options.language),
    EditorView.lineWrapping,
  ];
  if (options.label) extensions.push(EditorView.contentAttributes.of({ "aria-label": options.label }));
  if (options.lineNumbers !== false) {
    extensions.push(lineNumbers(), foldGutter(), highlightActiveLineGutter());
  }
  if (options.readOnly) {
    extensions.push(EditorState.readOnly.of(true), keymap.of([...defaultKeymap, ...searchKeymap, ...foldKeymap]));
  } else {
    extensions.push(
      history(),
      indentOnInput(),
      closeBrackets(),
      autocompletion({ activateOnTyping: true }),
      highlightActiveLine(),
      highlightSelectionMatches(),
      keymap.of([
        ...closeBracketsKeymap,
        ...defaultKeymap,
        ...searchKeymap,
        ...historyKeymap,
        ...foldKeymap,
        ...completionKeymap,
        ...lintKeymap,
        indentWithTab,
      ]),
    );
  }
  return [...extensions, ...(options.extra ?? [])];
}
