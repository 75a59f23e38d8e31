// Login: email and password; the API keeps the refresh token in an HttpOnly cookie, and the page
// returns to where the visitor came from (?next=) or to their home.
import { useState, type FormEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router-dom";
import { api, ApiError, must } from "../api/client";
import { homeFor } from "../auth";
import { FocusHere } from "../components/FocusHere";
import { humane, safeNext } from "../components/problems";
import { session } from "../session";
import { ErrorMessage, Field, Notice } from "../ui";

export default function Login() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const next = safeNext(params.get("next"));
  const expired = params.get("expired") === "1";
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ error: unknown; n: number } | null>(null);
  const [fields, setFields] = useState<Record<string, string>>({});

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setFields({});
    try {
      const tokens = await must(api.POST("/v1/auth/login", { body: { email, password, session: "cookie" } }));
      await session.begin(tokens);
      navigate(next ?? homeFor(session.user()), { replace: true });
    } catch (err) {
      if (err instanceof ApiError) setFields(err.fieldErrors());
      setError({ error: loginProblem(err), n: Date.now() });
      setBusy(false);
    }
  }

  const q = next ? `?next=${encodeURIComponent(next)}` : "";
  return (
    <>
      <h1>Log in</h1>
      {expired && (
        <Notice kind="warning">
          <p>Your session expired; please log in again.</p>
        </Notice>
      )}
      {error && (
        <FocusHere focusKey={error.n}>
          <ErrorMessage error={error.error} />
        </FocusHere>
      )}
      <form className="narrow" onSubmit={(e) => void submit(e)} noValidate>
        <Field id="login-email" label="Email" error={fields.email}>
          <input
            id="login-email"
            type="email"
            autoComplete="username"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            aria-invalid={fields.email ? true : undefined}
            aria-describedby={fields.email ? "login-email-error" : undefined}
          />
        </Field>
        <Field id="login-password" label="Password" error={fields.password}>
          <input
            id="login-password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            aria-invalid={fields.password ? true : undefined}
            aria-describedby={fields.password ? "login-password-error" : undefined}
          />
        </Field>
        <button type="submit" disabled={busy}>
          {busy ? "Logging in…" : "Log in"}
        </button>
      </form>
      <p>
        New here? <Link to={`/register${q}`}>Create an account</Link>
      </p>
    </>
  );
}

function loginProblem(err: unknown): unknown {
  if (err instanceof ApiError) {
    if (err.status === 401) return new Error("The email or the password is wrong.");
    if (err.status === 400 && err.problem?.errors?.length) return new Error("Please fill in your email and password.");
  }
  return humane(err);
}
