/** U9: the bar of actions on the selected executions, or on every execution the filters match. */
import { useState } from "preact/hooks";
import { api, type BulkCount, type BulkTarget, type BulkVerb, type ExecutionSearch } from "../api";
import { ConfirmModal } from "../components/Modal";
import { notify, notifyError } from "../components/notify";
import { EXECUTION_STATES, StatusModal } from "../execution/StatusModal";
import { AddLabelsModal } from "./AddLabelsModal";
import { DeleteExecutionsModal } from "./DeleteExecutionsModal";

const VERBS: Record<BulkVerb, string> = {
  restart: "Restart",
  replay: "Replay",
  pause: "Pause",
  resume: "Resume",
  "force-run": "Force run",
  kill: "Kill",
};

/** Asked for even on a few selected rows: it cannot be undone. */
const DESTRUCTIVE = new Set<BulkVerb>(["kill"]);

function plural(n: number): string {
  return `${n} execution${n === 1 ? "" : "s"}`;
}

export function ExecutionsBulkBar({ selected, wholeQuery, total, filters, canSelectWholeQuery, onWholeQuery, onClear, onDone }: {
  selected: string[];
  /** Whether the actions go to every execution the filters match, not to the selected rows. */
  wholeQuery: boolean;
  total: number;
  filters: ExecutionSearch;
  canSelectWholeQuery: boolean;
  onWholeQuery: (wholeQuery: boolean) => void;
  onClear: () => void;
  /** Called after an action succeeded: clear the selection, reload the list. */
  onDone: () => void;
}) {
  const [confirm, setConfirm] = useState<BulkVerb | null>(null);
  const [dialog, setDialog] = useState<"status" | "labels" | "delete" | null>(null);
  const target: BulkTarget = wholeQuery ? { filters } : { ids: selected };
  const count = wholeQuery ? total : selected.length;
  const which = wholeQuery ? `all ${plural(count)} matching the filters` : plural(count);

  const act = async (label: string, action: (target: BulkTarget) => Promise<BulkCount>): Promise<boolean> => {
    try {
      const done = await action(target);
      notify("success", `${label}: ${plural(done?.count ?? count)}`);
      onDone();
      return true;
    } catch (error) {
      notifyError(error);
      return false;
    }
  };
  const runVerb = (verb: BulkVerb) => act(VERBS[verb], (to) => api.bulk(verb, to));
  const ask = (verb: BulkVerb) => (wholeQuery || DESTRUCTIVE.has(verb) ? setConfirm(verb) : void runVerb(verb));

  return (
    <div class="bulk-bar" role="toolbar" aria-label="Bulk actions">
      <span data-testid="bulk-count">{wholeQuery ? `All ${plural(total)} matching the filters selected` : `${selected.length} selected`}</span>
      {canSelectWholeQuery && (
        <button type="button" class="link-button" onClick={() => onWholeQuery(!wholeQuery)}>
          {wholeQuery ? "Select only this page" : `Select all ${total} matching`}
        </button>
      )}
      {(["restart", "replay", "pause", "resume", "force-run", "kill"] as const).map((verb) => (
        <button type="button" class="button small" onClick={() => ask(verb)}>
          {VERBS[verb]}
        </button>
      ))}
      <button type="button" class="button small" onClick={() => setDialog("status")}>
        Change status
      </button>
      <button type="button" class="button small" onClick={() => setDialog("labels")}>
        Set labels
      </button>
      <button type="button" class="button small danger" onClick={() => setDialog("delete")}>
        Delete
      </button>
      <button type="button" class="button small" onClick={onClear}>
        Clear selection
      </button>
      {confirm && (
        <ConfirmModal
          title={`${VERBS[confirm]} executions`}
          message={`${VERBS[confirm]} ${which}?`}
          confirmLabel={VERBS[confirm]}
          danger={DESTRUCTIVE.has(confirm)}
          onClose={() => setConfirm(null)}
          onConfirm={async () => {
            await runVerb(confirm);
          }}
        />
      )}
      {dialog === "status" && (
        <StatusModal
          title={`Change the status of ${which}`}
          states={EXECUTION_STATES}
          onClose={() => setDialog(null)}
          onSubmit={async (status) => {
            await act(`Status changed to ${status}`, (to) => api.bulkChangeStatus(to, status));
          }}
        />
      )}
      {dialog === "delete" && (
        <DeleteExecutionsModal
          which={which}
          onClose={() => setDialog(null)}
          onSubmit={(options) => act("Deleted", (to) => api.bulkDelete(to, options))}
        />
      )}
      {dialog === "labels" && (
        <AddLabelsModal
          title={`Add labels to ${which}`}
          onClose={() => setDialog(null)}
          onSubmit={(labels) => act("Labels added", (to) => api.bulkAddLabels(to, labels))}
        />
      )}
    </div>
  );
}
