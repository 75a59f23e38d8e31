// Small building blocks every page uses, so that loading, empty and error states look and read
// the same everywhere.
import { useEffect, useRef, type ReactNode, type Ref } from "react";
import type { BookingStatus } from "./api/client";
import { describe } from "./api/client";

export function Loading({ what = "Loading" }: { what?: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

// ErrorMessage shows a failure in place; role=alert makes screen readers say it at once.
export function ErrorMessage({ error, children }: { error: unknown; children?: ReactNode }) {
  if (!error) return null;
  return (
    <div className="alert alert-error" role="alert">
      <p>{describe(error)}</p>
      {children}
    </div>
  );
}

// FormErrors sits at the top of a form: the failure in place, or, when fields were refused,
// a summary naming those that have no input of their own to stand beside. The caller focuses
// `summaryRef` when no field can take the focus.
export function FormErrors({
  error,
  errors,
  placed,
  notDone,
  summaryRef,
}: {
  error: unknown;
  errors: Record<string, string>;
  placed: string[];
  notDone: string;
  summaryRef: Ref<HTMLDivElement>;
}) {
  const fieldErrors = Object.entries(errors);
  const unplaced = fieldErrors.filter(([k]) => !placed.includes(k));
  return (
    <div ref={summaryRef} tabIndex={-1}>
      {fieldErrors.length === 0 && <ErrorMessage error={error} />}
      {fieldErrors.length > 0 && (
        <div className="alert alert-error" role="alert">
          <p>{notDone}: please correct the marked fields.</p>
          {unplaced.map(([k, m]) => (
            <p key={k}>
              {k}: {m}
            </p>
          ))}
        </div>
      )}
    </div>
  );
}

export function Notice({ children, kind = "info" }: { children: ReactNode; kind?: "info" | "success" | "warning" }) {
  return (
    <div className={`alert alert-${kind}`} role="status">
      {children}
    </div>
  );
}

export const statusLabel: Record<BookingStatus, string> = {
  held: "Held",
  confirmed: "Confirmed",
  checked_in: "Checked in",
  completed: "Completed",
  expired: "Expired",
  cancelled: "Cancelled",
  no_show: "No-show",
};

export function StatusBadge({ status }: { status: BookingStatus }) {
  return <span className={`badge badge-${status}`}>{statusLabel[status]}</span>;
}

// Field is a labelled input with its error tied to it for assistive technology.
export function Field({
  id,
  label,
  error,
  hint,
  children,
}: {
  id: string;
  label: string;
  error?: string | undefined;
  hint?: string;
  children: ReactNode;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {children}
      {error && (
        <p className="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

// ConfirmDialog is a modal asking before something that cannot be undone (a cancellation).
// It uses the native <dialog>, which traps focus and closes on Escape.
export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  onConfirm,
  onCancel,
  busy,
}: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
  busy?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} aria-labelledby="confirm-title" onCancel={onCancel} className="dialog">
      <h2 id="confirm-title">{title}</h2>
      {children}
      <div className="actions">
        <button type="button" className="secondary" onClick={onCancel} disabled={busy}>
          Keep it
        </button>
        <button type="button" className="danger" onClick={onConfirm} disabled={busy}>
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
