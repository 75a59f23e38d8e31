// An admin edits one doctor's working hours and exceptions.
import { useEffect, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { api, must, type Provider } from "../api/client";
import ScheduleEditor from "../components/ScheduleEditor";
import { ErrorMessage, Loading } from "../ui";

export default function AdminSchedule() {
  const { id = "" } = useParams();
  const [provider, setProvider] = useState<Provider | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let live = true;
    setProvider(null);
    setError(null);
    must(api.GET("/v1/providers/{id}", { params: { path: { id } } }))
      .then((p) => live && setProvider(p))
      .catch((e: unknown) => live && setError(e));
    return () => {
      live = false;
    };
  }, [id]);
  return (
    <>
      <p className="breadcrumb">
        <Link to="/admin/doctors">← All doctors</Link>
      </p>
      <h1>Working hours{provider ? ` of ${provider.name}` : ""}</h1>
      <ErrorMessage error={error} />
      {!provider && !error && <Loading what="Loading the doctor" />}
      {provider && <ScheduleEditor providerId={provider.id} />}
    </>
  );
}
