/** The shell: navigation, theme switch, login prompt, and the page for the current route. */
import { useEffect, useState } from "preact/hooks";
import { onUnauthorized } from "./api";
import { Toasts } from "./components/notify";
import { ExecutionPage } from "./execution/ExecutionPage";
import { ExecutionsList } from "./pages/ExecutionsList";
import { FlowPage } from "./pages/FlowPage";
import { FlowsList } from "./pages/FlowsList";
import { Login } from "./pages/Login";
import { LogsPage } from "./pages/LogsPage";
import { NamespacePage } from "./pages/NamespacePage";
import { SettingsPage } from "./pages/SettingsPage";
import { href, navigate, useLocation } from "./router";
import { currentTheme, setTheme, type Theme } from "./theme";

const NAV = [
  { path: "/flows", label: "Flows" },
  { path: "/executions", label: "Executions" },
  { path: "/logs", label: "Logs" },
  { path: "/namespaces", label: "Namespaces" },
  { path: "/settings", label: "Settings" },
];

function Page({ path, query }: { path: string; query: URLSearchParams }) {
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const [section, ...rest] = parts;
  if (!section) {
    navigate(href("/flows"), true);
    return null;
  }
  if (section === "flows") {
    if (!rest.length) return <FlowsList query={query} />;
    if (rest[0] === "new") return <FlowPage key="new" namespace={null} id={null} tab="edit" query={query} />;
    if (rest[0] === "edit" && rest.length >= 3) {
      return <FlowPage key={`${rest[1]}/${rest[2]}`} namespace={rest[1]} id={rest[2]} tab={rest[3] ?? "overview"} query={query} />;
    }
  }
  if (section === "executions") {
    if (!rest.length) return <ExecutionsList query={query} />;
    if (rest.length >= 3) {
      return <ExecutionPage key={rest[2]} namespace={rest[0]} flowId={rest[1]} id={rest[2]} tab={rest[3] ?? "overview"} />;
    }
  }
  if (section === "logs" && !rest.length) return <LogsPage query={query} />;
  if (section === "namespaces") return <NamespacePage namespace={rest[0] ?? null} tab={rest[1] ?? "kv"} />;
  if (section === "settings") return <SettingsPage />;
  return (
    <section class="page">
      <h1>Page not found</h1>
      <p>
        Nothing lives at <code>{path}</code>. <a href={href("/flows")}>Go to the flows</a>.
      </p>
    </section>
  );
}

export function App() {
  const location = useLocation();
  const [theme, setThemeState] = useState<Theme>(currentTheme());
  const [needLogin, setNeedLogin] = useState(false);
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => onUnauthorized(() => setNeedLogin(true)), []);
  useEffect(() => setMenuOpen(false), [location.path]);
  const toggleTheme = () => {
    const next = theme === "dark" ? "light" : "dark";
    setTheme(next);
    setThemeState(next);
  };
  const section = `/${location.path.split("/")[1] ?? ""}`;
  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" href={href("/flows")} title="lanner home">
          <span class="brand-mark" aria-hidden="true">
            L
          </span>
          lanner
        </a>
        <button
          type="button"
          class="icon-button menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="main-nav"
          onClick={() => setMenuOpen(!menuOpen)}
        >
          <span aria-hidden="true">☰</span>
          <span class="visually-hidden">Menu</span>
        </button>
        <nav id="main-nav" class={`main-nav${menuOpen ? " open" : ""}`} aria-label="Main">
          {NAV.map((item) => (
            <a href={href(item.path)} class={section === item.path ? "active" : ""} aria-current={section === item.path ? "page" : undefined}>
              {item.label}
            </a>
          ))}
        </nav>
        <button type="button" class="button theme-toggle" onClick={toggleTheme} aria-label={`Switch to ${theme === "dark" ? "light" : "dark"} theme`}>
          {theme === "dark" ? "☀ Light" : "☾ Dark"}
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {needLogin ? <Login onDone={() => setNeedLogin(false)} /> : <Page path={location.path} query={location.query} />}
      </main>
      <Toasts />
    </div>
  );
}
