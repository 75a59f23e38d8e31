// The clinic's doctors and services, loaded once and shared by the patient pages that name them.
import { useCallback, useEffect, useState } from "react";
import { api, must, type Provider, type Service } from "../api/client";

type Catalog = { providers: Provider[]; services: Service[] };

let cache: Promise<Catalog> | null = null;

function load(): Promise<Catalog> {
  cache ??= Promise.all([must(api.GET("/v1/providers")), must(api.GET("/v1/services"))]).then(([p, s]) => ({
    providers: p.providers,
    services: s.services,
  }));
  // A failure is not kept: the next caller asks again.
  cache.catch(() => {
    cache = null;
  });
  return cache;
}

export function useCatalog() {
  const [catalog, setCatalog] = useState<Catalog | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let live = true;
    setError(null);
    load().then(
      (c) => live && setCatalog(c),
      (e: unknown) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [attempt]);
  const retry = useCallback(() => setAttempt((n) => n + 1), []);
  const provider = useCallback((id: string | null | undefined) => catalog?.providers.find((p) => p.id === id), [catalog]);
  const service = useCallback((id: string | null | undefined) => catalog?.services.find((s) => s.id === id), [catalog]);
  return { catalog, error, retry, provider, service };
}
