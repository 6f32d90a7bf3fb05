/** U19: basic-auth sign-in, shown when the API answers 401. */
import { useState } from "preact/hooks";
import { api, setCredentials } from "../api";
import { ErrorBox, Field } from "../components/common";

export function Login({ onDone }: { onDone: () => void }) {
  const [user, setUser] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    setCredentials(user, password);
    try {
      await api.searchFlows({ size: 1 });
      onDone();
    } catch (failure) {
      setCredentials(null);
      setError(failure);
    }
  };
  return (
    <section class="page narrow">
      <h1>Sign in</h1>
      <form onSubmit={submit} class="login-form">
        <Field label="User" id="login-user">
          <input id="login-user" autocomplete="username" value={user} onInput={(event) => setUser((event.target as HTMLInputElement).value)} required />
        </Field>
        <Field label="Password" id="login-password">
          <input
            id="login-password"
            type="password"
            autocomplete="current-password"
            value={password}
            onInput={(event) => setPassword((event.target as HTMLInputElement).value)}
            required
          />
        </Field>
        <ErrorBox error={error} />
        <button type="submit" class="button primary">
          Sign in
        </button>
      </form>
    </section>
  );
}
