// The services patients can book, and a form to add one.
import { useRef, useState, type FormEvent } from "react";
import { api, ApiError, must, type Service } from "../api/client";
import { Empty, ErrorMessage, Field, Loading, Notice, FormErrors } from "../ui";
import { useCatalog } from "../components/StaffData";

function AddService({ onAdded }: { onAdded: (s: Service) => void }) {
  const [name, setName] = useState("");
  const [duration, setDuration] = useState("30");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const summary = useRef<HTMLDivElement>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const local: Record<string, string> = {};
    const minutes = Number(duration);
    if (!name.trim()) local.name = "Enter the service's name.";
    if (!Number.isInteger(minutes) || minutes < 5 || minutes > 480 || minutes % 5 !== 0) {
      local.duration_minutes = "Enter whole minutes, a multiple of 5 between 5 and 480.";
    }
    setError(null);
    setErrors(local);
    const firstLocal = Object.keys(local)[0];
    if (firstLocal) {
      document.getElementById(`svc-${firstLocal}`)?.focus();
      return;
    }
    setBusy(true);
    try {
      const s = await must(api.POST("/v1/services", { body: { name: name.trim(), duration_minutes: minutes } }));
      setName("");
      setDuration("30");
      onAdded(s);
    } catch (err) {
      const fields = err instanceof ApiError ? err.fieldErrors() : {};
      setErrors(fields);
      setError(err);
      const first = Object.keys(fields)[0];
      if (first) document.getElementById(`svc-${first}`)?.focus();
      else summary.current?.focus();
    } finally {
      setBusy(false);
    }
  };

  const describedBy = (k: string, hint = false) =>
    [hint ? `svc-${k}-hint` : "", errors[k] ? `svc-${k}-error` : ""].filter(Boolean).join(" ") || undefined;

  return (
    <form className="narrow" onSubmit={(e) => void submit(e)} noValidate aria-labelledby="add-service">
      <h2 id="add-service">Add a service</h2>
      <FormErrors error={error} errors={errors} placed={["name", "duration_minutes"]} notDone="The service was not added" summaryRef={summary} />
      <Field id="svc-name" label="Name" error={errors.name}>
        <input
          id="svc-name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          autoComplete="off"
          required
          aria-invalid={errors.name ? true : undefined}
          aria-describedby={describedBy("name")}
        />
      </Field>
      <Field
        id="svc-duration_minutes"
        label="Length in minutes"
        error={errors.duration_minutes}
        hint="A multiple of 5, from 5 to 480. Free slots are offered in this length."
      >
        <input
          id="svc-duration_minutes"
          type="number"
          inputMode="numeric"
          min={5}
          max={480}
          step={5}
          value={duration}
          onChange={(e) => setDuration(e.target.value)}
          required
          aria-invalid={errors.duration_minutes ? true : undefined}
          aria-describedby={describedBy("duration_minutes", true)}
        />
      </Field>
      <button type="submit" disabled={busy}>
        {busy ? "Adding…" : "Add service"}
      </button>
    </form>
  );
}

export default function AdminServices() {
  const { catalog, error, reload } = useCatalog();
  const [added, setAdded] = useState<Service | null>(null);
  return (
    <>
      <h1>Services</h1>
      {added && (
        <Notice kind="success">
          <p>
            {added.name} ({added.duration_minutes} minutes) was added. Patients can book it now.
          </p>
        </Notice>
      )}
      <ErrorMessage error={error} />
      {!catalog && !error && <Loading what="Loading services" />}
      {catalog && catalog.services.length === 0 && <Empty>There are no services yet. Add the first one below.</Empty>}
      {catalog && catalog.services.length > 0 && (
        <div className="table-wrap" role="region" aria-label="Services" tabIndex={0}>
          <table className="staff-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Length</th>
              </tr>
            </thead>
            <tbody>
              {catalog.services.map((s) => (
                <tr key={s.id}>
                  <th scope="row">{s.name}</th>
                  <td>{s.duration_minutes} minutes</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <AddService
        onAdded={(s) => {
          setAdded(s);
          reload();
        }}
      />
    </>
  );
}
