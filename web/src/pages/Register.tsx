// Register: a patient account (name, email, phone, password). The API logs the new patient in
// at once; the next step is verifying the email or the phone.
import { useState, type FormEvent, type InputHTMLAttributes } from "react";
import { Link, useNavigate, useSearchParams } from "react-router-dom";
import { api, ApiError, must, type Schemas } from "../api/client";
import { FocusHere } from "../components/FocusHere";
import { humane, safeNext } from "../components/problems";
import { session } from "../session";
import { ErrorMessage, Field } from "../ui";

type Key = "name" | "email" | "phone" | "password";

export default function Register() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const next = safeNext(params.get("next"));
  const [form, setForm] = useState<Record<Key, string>>({ name: "", email: "", phone: "", password: "" });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ error: unknown; n: number } | null>(null);
  const [fields, setFields] = useState<Record<string, string>>({});

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setFields({});
    try {
      const body: Schemas["RegisterRequest"] = { ...form, email: form.email.trim(), phone: form.phone.replace(/[\s()-]/g, ""), session: "cookie" };
      const out = await must(api.POST("/v1/auth/register", { body }));
      await session.begin(out, out.user);
      navigate(`/verify${next ? `?next=${encodeURIComponent(next)}` : ""}`, { replace: true });
    } catch (err) {
      const fe = err instanceof ApiError ? err.fieldErrors() : {};
      setFields(fe);
      setError({ error: registerProblem(err, fe), n: Date.now() });
      setBusy(false);
    }
  }

  function input(key: Key, label: string, props: InputHTMLAttributes<HTMLInputElement>, hint?: string) {
    const id = `register-${key}`;
    const err = fields[key];
    const describedBy = [hint ? `${id}-hint` : "", err ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
    return (
      <Field id={id} label={label} error={err} {...(hint ? { hint } : {})}>
        <input
          id={id}
          required
          value={form[key]}
          onChange={(e) => setForm((f) => ({ ...f, [key]: e.target.value }))}
          aria-invalid={err ? true : undefined}
          aria-describedby={describedBy}
          {...props}
        />
      </Field>
    );
  }

  const q = next ? `?next=${encodeURIComponent(next)}` : "";
  return (
    <>
      <h1>Create an account</h1>
      <p>With an account you can book, confirm, move and cancel appointments.</p>
      {error && (
        <FocusHere focusKey={error.n}>
          <ErrorMessage error={error.error} />
        </FocusHere>
      )}
      <form className="narrow" onSubmit={(e) => void submit(e)} noValidate>
        {input("name", "Full name", { type: "text", autoComplete: "name" })}
        {input("email", "Email", { type: "email", autoComplete: "email" })}
        {input(
          "phone",
          "Mobile phone",
          { type: "tel", autoComplete: "tel", inputMode: "tel" },
          "With the country code, such as +4915112345678. We send confirmations and reminders by SMS.",
        )}
        {input("password", "Password", { type: "password", autoComplete: "new-password" }, "At least 8 characters.")}
        <button type="submit" disabled={busy}>
          {busy ? "Creating your account…" : "Create account"}
        </button>
      </form>
      <p>
        Have an account already? <Link to={`/login${q}`}>Log in</Link>
      </p>
    </>
  );
}

const fieldNames: Record<string, string> = { name: "name", email: "email", phone: "phone number", password: "password" };

function registerProblem(err: unknown, fields: Record<string, string>): unknown {
  const bad = Object.keys(fields).filter((k) => k in fieldNames);
  if (err instanceof ApiError && bad.length > 0) {
    if (err.status === 409 && fields.email) return new Error("An account with that email exists already. Log in instead?");
    return new Error(`Please check your ${bad.map((k) => fieldNames[k]).join(", ")}.`);
  }
  return humane(err);
}
