// Verify: the clinic writes only to verified contacts, and a patient needs one to book. Send a
// 6-digit code by email or SMS, type it in, and go on to booking (or back to ?next=).
import { useEffect, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { api, ApiError, must, type Schemas, type User } from "../api/client";
import { FocusHere, focusById } from "../components/FocusHere";
import { humane, plain, safeNext } from "../components/problems";
import { session } from "../session";
import { ErrorMessage, Field, Loading } from "../ui";

type Channel = "email" | "sms";
type Sent = Schemas["VerificationSent"];

const channelName: Record<Channel, string> = { email: "email address", sms: "phone number" };

export default function Verify() {
  const [params] = useSearchParams();
  const next = safeNext(params.get("next"));
  const [me, setMe] = useState<User | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  const [sent, setSent] = useState<Sent | null>(null);
  const [code, setCode] = useState("");
  const [codeError, setCodeError] = useState<string | undefined>(undefined);
  const [problem, setProblem] = useState<{ error: unknown; n: number; resend?: Channel } | null>(null);
  const [done, setDone] = useState<{ channel: Channel; n: number } | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    setLoadError(null);
    must(api.GET("/v1/me")).then(
      (u) => {
        if (!live) return;
        setMe(u);
        session.setUser(u);
      },
      (e: unknown) => live && setLoadError(e),
    );
    return () => {
      live = false;
    };
  }, [attempt]);

  async function send(channel: Channel) {
    setBusy(true);
    setProblem(null);
    setDone(null);
    setCodeError(undefined);
    try {
      const out = await must(api.POST("/v1/me/verify", { body: { channel } }));
      setSent(out);
      setCode("");
      focusById("code-h");
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        // Verified already (in another tab, say): show it.
        setAttempt((n) => n + 1);
      }
      setProblem({ error: humane(e), n: Date.now() });
    } finally {
      setBusy(false);
    }
  }

  async function confirm(e: FormEvent) {
    e.preventDefault();
    if (!sent) return;
    const channel = sent.channel;
    const digits = code.replace(/\D/g, "");
    if (digits.length !== 6) {
      setCodeError("Enter the 6 digits we sent.");
      setProblem({ error: new Error("The code is 6 digits."), n: Date.now() });
      return;
    }
    setBusy(true);
    setProblem(null);
    setCodeError(undefined);
    try {
      const u = await must(api.POST("/v1/me/verify/confirm", { body: { channel, code: digits } }));
      session.setUser(u);
      setMe(u);
      setSent(null);
      setCode("");
      setDone({ channel, n: Date.now() });
    } catch (err) {
      if (err instanceof ApiError && (err.status === 422 || err.status === 400)) {
        setCodeError(err.fieldErrors().code ?? "Check the code.");
        setProblem({ error: err.problem?.detail ? new Error(plain(err.problem.detail)) : err, n: Date.now() });
      } else if (err instanceof ApiError && err.status === 409) {
        const detail = err.problem?.detail ?? "";
        if (detail.includes("verified already")) {
          setSent(null);
          setAttempt((n) => n + 1);
          setDone({ channel, n: Date.now() });
        } else {
          setProblem({
            error: new Error("This code has expired or has been used up; request a new one."),
            n: Date.now(),
            resend: channel,
          });
        }
      } else {
        setProblem({ error: humane(err), n: Date.now() });
      }
    } finally {
      setBusy(false);
    }
  }

  const onward = next ?? "/book";
  const onwardLabel = next?.startsWith("/book") || !next ? "Continue to booking" : "Continue";
  const anyVerified = me ? me.email_verified || me.phone_verified : false;

  return (
    <>
      <h1>Verify your email or phone</h1>
      <p>
        The clinic sends confirmations and reminders only to contacts you have verified, and you need at least one to
        book.
      </p>
      {loadError ? (
        <ErrorMessage error={loadError}>
          <button type="button" className="secondary" onClick={() => setAttempt((n) => n + 1)}>
            Try again
          </button>
        </ErrorMessage>
      ) : null}
      {!me && !loadError && <Loading what="Loading your details" />}
      {done && (
        <FocusHere focusKey={done.n}>
          <div className="alert alert-success" role="status">
            <p>Your {channelName[done.channel]} is verified.</p>
            <p>
              <Link to={onward}>{onwardLabel}</Link>
            </p>
          </div>
        </FocusHere>
      )}
      {problem && (
        <FocusHere focusKey={problem.n}>
          <ErrorMessage error={problem.error}>
            {problem.resend && (
              <button type="button" className="secondary" disabled={busy} onClick={() => void send(problem.resend!)}>
                Send a new code
              </button>
            )}
          </ErrorMessage>
        </FocusHere>
      )}
      {me && (
        <>
          <h2>Your contacts</h2>
          <ul className="cards">
            <ContactRow
              label="Email"
              value={me.email}
              verified={me.email_verified}
              action="Send a code by email"
              busy={busy}
              onSend={() => void send("email")}
            />
            <ContactRow
              label="Phone"
              value={me.phone}
              verified={me.phone_verified}
              action="Send a code by SMS"
              busy={busy}
              onSend={() => void send("sms")}
            />
          </ul>
          {sent && (
            <section aria-labelledby="code-h" className="panel">
              <h2 id="code-h" tabIndex={-1}>
                Enter the code
              </h2>
              <p role="status">
                We sent a 6-digit code to <strong>{sent.sent_to}</strong>. It works for{" "}
                {Math.round(sent.expires_in / 60)} minutes.
              </p>
              <form className="narrow" onSubmit={(e) => void confirm(e)} noValidate>
                <Field id="verify-code" label="6-digit code" error={codeError}>
                  <input
                    id="verify-code"
                    name="code"
                    inputMode="numeric"
                    autoComplete="one-time-code"
                    pattern="[0-9]{6}"
                    maxLength={6}
                    required
                    className="code-input"
                    value={code}
                    onChange={(e) => setCode(e.target.value.replace(/\D/g, "").slice(0, 6))}
                    aria-invalid={codeError ? true : undefined}
                    aria-describedby={codeError ? "verify-code-error" : undefined}
                  />
                </Field>
                <div className="actions">
                  <button type="submit" disabled={busy}>
                    {busy ? "Checking…" : "Verify"}
                  </button>
                  <button type="button" className="secondary" disabled={busy} onClick={() => void send(sent.channel)}>
                    Send a new code
                  </button>
                </div>
              </form>
            </section>
          )}
          {anyVerified && !done && (
            <p>
              {me.email_verified && me.phone_verified
                ? "Your email and phone are both verified."
                : "You can book with what is verified already."}{" "}
              <Link to={onward}>{onwardLabel}</Link>
            </p>
          )}
        </>
      )}
    </>
  );
}

function ContactRow({
  label,
  value,
  verified,
  action,
  busy,
  onSend,
}: {
  label: string;
  value: string;
  verified: boolean;
  action: string;
  busy: boolean;
  onSend: () => void;
}) {
  return (
    <li className="card">
      <div className="row">
        <h3 className="inline-h">{label}</h3>
        <span>{value || <span className="muted">none given</span>}</span>
        {verified ? (
          <span className="badge badge-confirmed">Verified</span>
        ) : (
          <span className="badge badge-held">Not verified</span>
        )}
      </div>
      {!verified && value && (
        <div className="actions">
          <button type="button" className="secondary" disabled={busy} onClick={onSend}>
            {action}
          </button>
        </div>
      )}
    </li>
  );
}
