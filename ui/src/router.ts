/** A small history router for the app under /ui/ (Kestra's route shapes). */
import { useEffect, useState } from "preact/hooks";

export const BASE = "/ui";

export interface Location {
  path: string;
  query: URLSearchParams;
}

const listeners = new Set<() => void>();

function current(): Location {
  let path = window.location.pathname;
  if (path.startsWith(BASE)) path = path.slice(BASE.length);
  // Kestra 0.23+ puts the tenant in the UI's paths: /ui/main/flows is /ui/flows.
  if (path === "/main" || path.startsWith("/main/")) path = path.slice(5);
  if (!path) path = "/";
  return { path, query: new URLSearchParams(window.location.search) };
}

let location = current();

function notify(): void {
  location = current();
  listeners.forEach((listener) => listener());
}

window.addEventListener("popstate", notify);

export function href(path: string, query?: Record<string, string | string[] | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === "") continue;
    if (Array.isArray(value)) value.forEach((item) => params.append(key, item));
    else params.set(key, value);
  }
  const search = params.toString();
  return `${BASE}${path}${search ? `?${search}` : ""}`;
}

/** Go to a full URL under /ui (as made by `href`). */
export function navigate(url: string, replace = false): void {
  if (url === window.location.pathname + window.location.search) return;
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  notify();
  if (!replace) window.scrollTo(0, 0);
}

export function useLocation(): Location {
  const [, setTick] = useState(0);
  useEffect(() => {
    const listener = () => setTick((tick) => tick + 1);
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }, []);
  return location;
}

/** Replace some query parameters of the current URL (filters kept in the address bar). */
export function setQuery(changes: Record<string, string | string[] | undefined>): void {
  const params = new URLSearchParams(window.location.search);
  for (const [key, value] of Object.entries(changes)) {
    params.delete(key);
    if (Array.isArray(value)) value.forEach((item) => params.append(key, item));
    else if (value !== undefined && value !== "") params.set(key, value);
  }
  const search = params.toString();
  navigate(`${window.location.pathname}${search ? `?${search}` : ""}`, true);
}

/** Intercept clicks on in-app links so they do not reload the page. */
export function installLinkInterception(): void {
  document.addEventListener("click", (event) => {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const anchor = (event.target as Element | null)?.closest?.("a");
    if (!anchor || anchor.target || anchor.hasAttribute("download")) return;
    const url = new URL(anchor.href, window.location.href);
    if (url.origin !== window.location.origin || !url.pathname.startsWith(`${BASE}/`)) return;
    event.preventDefault();
    navigate(url.pathname + url.search);
  });
}
