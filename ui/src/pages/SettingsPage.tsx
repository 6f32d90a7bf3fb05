/** U19: preferences kept in this browser: theme, time zone, default log level. */
import { useState } from "preact/hooks";
import { credentials, setCredentials } from "../api";
import { Field } from "../components/common";
import { notify } from "../components/notify";
import { LEVELS } from "../states";
import { currentTheme, setTheme, type Theme } from "../theme";

export function SettingsPage() {
  const [theme, setThemeState] = useState<Theme>(currentTheme());
  const [zone, setZone] = useState(localStorage.getItem("lanner.timeZone") ?? "");
  const [level, setLevel] = useState(localStorage.getItem("lanner.logLevel") ?? "INFO");
  const zones = (Intl as unknown as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf?.("timeZone") ?? [];
  return (
    <section class="page narrow">
      <h1>Settings</h1>
      <Field label="Theme" id="setting-theme">
        <select
          id="setting-theme"
          value={theme}
          onChange={(event) => {
            const next = (event.target as HTMLSelectElement).value as Theme;
            setTheme(next);
            setThemeState(next);
          }}
        >
          <option value="light">Light</option>
          <option value="dark">Dark</option>
        </select>
      </Field>
      <Field label="Time zone" id="setting-zone" hint="Dates are shown in this zone; empty means the browser's.">
        <input
          id="setting-zone"
          list="zones"
          value={zone}
          placeholder={Intl.DateTimeFormat().resolvedOptions().timeZone}
          onChange={(event) => {
            const value = (event.target as HTMLInputElement).value.trim();
            setZone(value);
            if (value) localStorage.setItem("lanner.timeZone", value);
            else localStorage.removeItem("lanner.timeZone");
            notify("success", "Time zone saved");
          }}
        />
        <datalist id="zones">
          {zones.map((name) => (
            <option value={name} />
          ))}
        </datalist>
      </Field>
      <Field label="Default log level" id="setting-level">
        <select
          id="setting-level"
          value={level}
          onChange={(event) => {
            const value = (event.target as HTMLSelectElement).value;
            setLevel(value);
            localStorage.setItem("lanner.logLevel", value);
          }}
        >
          {LEVELS.map((name) => (
            <option value={name}>{name}</option>
          ))}
        </select>
      </Field>
      {credentials() && (
        <button
          type="button"
          class="button"
          onClick={() => {
            setCredentials(null);
            window.location.reload();
          }}
        >
          Sign out
        </button>
      )}
    </section>
  );
}
