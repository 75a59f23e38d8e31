// The clinic's doctors: the list, each with a link to their working hours, and a form to add one
// (optionally with their own login).
import { useRef, useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { api, ApiError, must, type Provider } from "../api/client";
import { browserZone } from "../time";
import { Empty, ErrorMessage, Field, Loading, Notice, FormErrors } from "../ui";
import { timeZones, useCatalog } from "../components/StaffData";

type Form = { name: string; specialty: string; time_zone: string; email: string; password: string; phone: string };
const emptyForm = (): Form => ({ name: "", specialty: "", time_zone: browserZone, email: "", password: "", phone: "" });

function AddDoctor({ onAdded }: { onAdded: (p: Provider) => void }) {
  const [form, setForm] = useState<Form>(emptyForm);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [zones] = useState(timeZones);
  const summary = useRef<HTMLDivElement>(null);

  const set = (k: keyof Form) => (e: { target: { value: string } }) => setForm((f) => ({ ...f, [k]: e.target.value }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const local: Record<string, string> = {};
    if (!form.name.trim()) local.name = "Enter the doctor's name.";
    if (!form.time_zone) local.time_zone = "Choose the doctor's time zone.";
    if (form.email.trim() && !form.password) local.password = "Give a password with the email, or leave both empty.";
    if (!form.email.trim() && form.password) local.email = "Give an email with the password, or leave both empty.";
    if (form.phone.trim() && !form.email.trim()) local.phone = "A phone number belongs to the doctor's login: give an email and password too.";
    setError(null);
    setErrors(local);
    if (Object.keys(local).length > 0) {
      document.getElementById(`doc-${Object.keys(local)[0]}`)?.focus();
      return;
    }
    setBusy(true);
    try {
      const body = {
        name: form.name.trim(),
        time_zone: form.time_zone,
        ...(form.specialty.trim() ? { specialty: form.specialty.trim() } : {}),
        ...(form.email.trim() ? { email: form.email.trim(), password: form.password } : {}),
        ...(form.phone.trim() ? { phone: form.phone.trim() } : {}),
      };
      const p = await must(api.POST("/v1/providers", { body }));
      setForm(emptyForm());
      onAdded(p);
    } catch (err) {
      const fields = err instanceof ApiError ? err.fieldErrors() : {};
      setErrors(fields);
      setError(err);
      const first = Object.keys(fields)[0];
      if (first) document.getElementById(`doc-${first}`)?.focus();
      else summary.current?.focus();
    } finally {
      setBusy(false);
    }
  };

  const hints: Partial<Record<keyof Form, string>> = {
    time_zone: "The zone the doctor's working hours are kept in.",
    email: "Optional: the doctor's own login, to see appointments and edit working hours.",
    password: "At least 8 characters; give it together with the email.",
    phone: "Optional, international format such as +4915112345678.",
  };
  const input = (k: keyof Form) => ({
    id: `doc-${k}`,
    value: form[k],
    onChange: set(k),
    "aria-invalid": errors[k] ? true : undefined,
    "aria-describedby":
      [hints[k] ? `doc-${k}-hint` : "", errors[k] ? `doc-${k}-error` : ""].filter(Boolean).join(" ") || undefined,
  });
  // Field errors the form has no field for (none expected) are listed in the summary.

  return (
    <form className="narrow" onSubmit={(e) => void submit(e)} noValidate aria-labelledby="add-doctor">
      <h2 id="add-doctor">Add a doctor</h2>
      <FormErrors error={error} errors={errors} placed={Object.keys(form)} notDone="The doctor was not added" summaryRef={summary} />
      <Field id="doc-name" label="Name" error={errors.name}>
        <input {...input("name")} autoComplete="off" required />
      </Field>
      <Field id="doc-specialty" label="Specialty (optional)" error={errors.specialty}>
        <input {...input("specialty")} autoComplete="off" />
      </Field>
      <Field id="doc-time_zone" label="Time zone" error={errors.time_zone} hint={hints.time_zone}>
        <select {...input("time_zone")} required>
          {!zones.includes(form.time_zone) && <option value={form.time_zone}>{form.time_zone}</option>}
          {zones.map((z) => (
            <option key={z} value={z}>
              {z}
            </option>
          ))}
        </select>
      </Field>
      <fieldset className="staff-fieldset">
        <legend>The doctor's login (optional)</legend>
        <Field id="doc-email" label="Email" error={errors.email} hint={hints.email}>
          <input {...input("email")} type="email" autoComplete="off" />
        </Field>
        <Field id="doc-password" label="Password" error={errors.password} hint={hints.password}>
          <input {...input("password")} type="password" autoComplete="new-password" />
        </Field>
        <Field id="doc-phone" label="Phone (optional)" error={errors.phone} hint={hints.phone}>
          <input {...input("phone")} type="tel" autoComplete="off" />
        </Field>
      </fieldset>
      <button type="submit" disabled={busy}>
        {busy ? "Adding…" : "Add doctor"}
      </button>
    </form>
  );
}

export default function AdminDoctors() {
  const { catalog, error, reload } = useCatalog();
  const [added, setAdded] = useState<Provider | null>(null);
  return (
    <>
      <h1>Doctors</h1>
      {added && (
        <Notice kind="success">
          <p>
            {added.name} was added.{" "}
            <Link to={`/admin/doctors/${added.id}/schedule`}>Set {added.name}'s working hours</Link>: until then no
            times can be booked.
          </p>
        </Notice>
      )}
      <ErrorMessage error={error} />
      {!catalog && !error && <Loading what="Loading doctors" />}
      {catalog && catalog.providers.length === 0 && <Empty>There are no doctors yet. Add the first one below.</Empty>}
      {catalog && catalog.providers.length > 0 && (
        <div className="table-wrap" role="region" aria-label="Doctors" tabIndex={0}>
          <table className="staff-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Specialty</th>
                <th scope="col">Time zone</th>
                <th scope="col">Schedule</th>
              </tr>
            </thead>
            <tbody>
              {catalog.providers.map((p) => (
                <tr key={p.id}>
                  <th scope="row">{p.name}</th>
                  <td>{p.specialty || <span className="muted">None given</span>}</td>
                  <td>{p.time_zone}</td>
                  <td>
                    <Link to={`/admin/doctors/${p.id}/schedule`}>
                      Working hours<span className="sr-only"> of {p.name}</span>
                    </Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <AddDoctor
        onAdded={(p) => {
          setAdded(p);
          reload();
        }}
      />
    </>
  );
}
