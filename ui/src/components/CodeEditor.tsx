/**
 * A CodeMirror editor as a component: `value` is the initial text, `onChange` reports edits, the
 * view goes to `onView`. The editor owns its text afterwards (echoing `value` back into it would
 * race with typing); give the component a new `key` to start over with another text.
 */
import { EditorState, type Extension } from "@codemirror/state";
import { EditorView } from "@codemirror/view";
import { useEffect, useRef } from "preact/hooks";
import { baseExtensions, type Language } from "../editor/setup";

export interface CodeEditorProps {
  value: string;
  language: Language;
  onChange?: (value: string) => void;
  onView?: (view: EditorView | null) => void;
  readOnly?: boolean;
  lineNumbers?: boolean;
  extensions?: Extension[];
  label: string;
  className?: string;
  testId?: string;
}

export function CodeEditor(props: CodeEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const onChange = useRef(props.onChange);
  onChange.current = props.onChange;

  useEffect(() => {
    const listener = EditorView.updateListener.of((update) => {
      if (update.docChanged) onChange.current?.(update.state.doc.toString());
    });
    const created = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: props.value,
        extensions: [
          ...baseExtensions({
            language: props.language,
            readOnly: props.readOnly,
            lineNumbers: props.lineNumbers,
            label: props.label,
            extra: props.extensions,
          }),
          listener,
        ],
      }),
    });
    view.current = created;
    props.onView?.(created);
    return () => {
      props.onView?.(null);
      created.destroy();
      view.current = null;
    };
  }, []);

  return <div ref={host} class={`code-editor ${props.className ?? ""}`} data-testid={props.testId} />;
}
