/** Live data of one execution: the execution itself (SSE `/follow`) and its logs (SSE `/logs/follow`). */
import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "../api";
import { follow } from "../sse";
import { isTerminated } from "../states";
import type { Execution, LogEntry } from "../types";

export interface LiveExecution {
  execution: Execution | null;
  error: unknown;
  /** How updates arrive: "stream" (SSE), "polling" (fallback), or "done". */
  mode: "stream" | "polling" | "done";
  refresh: () => void;
}

/** The execution, kept current over SSE until it ends (polling when the stream is unavailable). */
export function useLiveExecution(id: string): LiveExecution {
  const [execution, setExecution] = useState<Execution | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [mode, setMode] = useState<LiveExecution["mode"]>("stream");
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    let stopped = false;
    let closeStream: (() => void) | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const poll = async () => {
      try {
        const current = await api.execution(id);
        if (stopped) return;
        setExecution(current);
        setError(null);
        if (isTerminated(current.state.current)) setMode("done");
        else timer = setTimeout(poll, 1000);
      } catch (failure) {
        if (!stopped) setError(failure);
      }
    };
    api.execution(id).then(
      (first) => {
        if (stopped) return;
        setExecution(first);
        if (isTerminated(first.state.current)) {
          setMode("done");
          return;
        }
        let ended = false;
        closeStream = follow(`/executions/${encodeURIComponent(id)}/follow`, {
          onEvent: (event) => {
            if (!event.data) return;
            try {
              const next = JSON.parse(event.data) as Execution;
              if (next && next.id) {
                setExecution(next);
                if (event.id === "end" || isTerminated(next.state?.current)) {
                  ended = true;
                  setMode("done");
                }
              }
            } catch {
              // A keep-alive or an unexpected event: ignore it.
            }
          },
          onClose: () => {
            if (stopped || ended) return;
            // The stream ended before the execution did (or never worked): poll instead.
            setMode("polling");
            void poll();
          },
        });
      },
      (failure) => !stopped && setError(failure),
    );
    return () => {
      stopped = true;
      closeStream?.();
      if (timer) clearTimeout(timer);
    };
  }, [id, generation]);

  return { execution, error, mode, refresh: () => setGeneration((value) => value + 1) };
}

export interface LiveLogs {
  logs: LogEntry[];
  /** Increases on every change (the array is appended in place). */
  version: number;
  error: unknown;
  following: boolean;
}

/**
 * The execution's logs: streamed while it runs, then loaded once in full when it ends (the
 * full load replaces what was streamed, so nothing is counted twice).
 */
export function useLiveLogs(id: string, terminated: boolean | null, restarts: number): LiveLogs {
  const logs = useRef<LogEntry[]>([]);
  const [version, setVersion] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const [following, setFollowing] = useState(false);
  const frame = useRef<number | null>(null);
  const bump = () => {
    if (frame.current !== null) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = null;
      setVersion((value) => value + 1);
    });
  };

  useEffect(() => {
    if (terminated === null) return;
    let stopped = false;
    const loadAll = () =>
      api.logs(id).then(
        (all) => {
          if (stopped) return;
          logs.current = all;
          setError(null);
          bump();
        },
        (failure) => !stopped && setError(failure),
      );
    if (terminated) {
      setFollowing(false);
      void loadAll();
      return () => {
        stopped = true;
      };
    }
    logs.current = [];
    bump();
    setFollowing(true);
    let pollTimer: ReturnType<typeof setInterval> | null = null;
    const close = follow(`/logs/${encodeURIComponent(id)}/follow`, {
      onEvent: (event) => {
        if (!event.data || event.id === "start") return;
        try {
          const entry = JSON.parse(event.data) as LogEntry;
          if (entry && entry.message !== undefined) {
            logs.current.push(entry);
            bump();
          }
        } catch {
          // Not a log entry.
        }
      },
      onClose: () => {
        if (stopped) return;
        void loadAll();
        pollTimer = setInterval(loadAll, 1500);
      },
    });
    return () => {
      stopped = true;
      close();
      if (pollTimer) clearInterval(pollTimer);
      setFollowing(false);
    };
  }, [id, terminated, restarts]);

  useEffect(
    () => () => {
      if (frame.current !== null) cancelAnimationFrame(frame.current);
    },
    [],
  );
  return { logs: logs.current, version, error, following };
}
