// Data the doctor's and the admin's pages share: the caller's provider, the catalog's names,
// and bookings read page by page.
import { useCallback, useEffect, useState } from "react";
import { api, must, type Booking, type BookingStatus, type Provider, type Service, type User } from "../api/client";

// providerIdOf is the provider a doctor's login belongs to (GET /v1/me's provider_id).
export function providerIdOf(user: User | null): string | undefined {
  return user?.provider_id;
}

export const bookingStatuses: BookingStatus[] = [
  "held",
  "confirmed",
  "checked_in",
  "completed",
  "expired",
  "cancelled",
  "no_show",
];

export type BookingQuery = {
  provider_id?: string;
  status?: BookingStatus;
  from?: string;
  to?: string;
};

// fetchBookingPage reads one page of GET /v1/bookings.
export async function fetchBookingPage(
  query: BookingQuery,
  cursor?: string,
  limit = 25,
): Promise<{ bookings: Booking[]; next: string | null }> {
  const page = await must(
    api.GET("/v1/bookings", { params: { query: { ...query, limit, ...(cursor ? { cursor } : {}) } } }),
  );
  return { bookings: page.bookings, next: page.next_cursor };
}

// fetchAllBookings follows next_cursor to the last page (a doctor's week is a few pages at most).
export async function fetchAllBookings(query: BookingQuery): Promise<Booking[]> {
  const out: Booking[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 50; i++) {
    const page = await fetchBookingPage(query, cursor, 100);
    out.push(...page.bookings);
    if (!page.next) break;
    cursor = page.next;
  }
  return out;
}

export type Catalog = {
  providers: Provider[];
  services: Service[];
  providerById: Map<string, Provider>;
  serviceById: Map<string, Service>;
};

// useCatalog loads the doctors and services once, for names and time zones.
export function useCatalog(): { catalog: Catalog | null; error: unknown; reload: () => void } {
  const [catalog, setCatalog] = useState<Catalog | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let live = true;
    setError(null);
    Promise.all([must(api.GET("/v1/providers")), must(api.GET("/v1/services"))])
      .then(([p, s]) => {
        if (!live) return;
        const providers = [...p.providers].sort((a, b) => a.name.localeCompare(b.name));
        const services = [...s.services].sort((a, b) => a.name.localeCompare(b.name));
        setCatalog({
          providers,
          services,
          providerById: new Map(providers.map((x) => [x.id, x])),
          serviceById: new Map(services.map((x) => [x.id, x])),
        });
      })
      .catch((e: unknown) => live && setError(e));
    return () => {
      live = false;
    };
  }, [version]);
  const reload = useCallback(() => setVersion((v) => v + 1), []);
  return { catalog, error, reload };
}

// timeZones lists the IANA zones the browser knows, for choosing a doctor's zone.
export function timeZones(): string[] {
  let zones: string[] = [];
  try {
    zones = Intl.supportedValuesOf("timeZone");
  } catch {
    zones = [];
  }
  if (!zones.includes("UTC")) zones = ["UTC", ...zones];
  return zones;
}

// useNarrow tells whether the screen is phone-sized, where tables become lists of cards.
export function useNarrow(query = "(max-width: 640px)"): boolean {
  const [narrow, setNarrow] = useState(() => window.matchMedia(query).matches);
  useEffect(() => {
    const m = window.matchMedia(query);
    const on = () => setNarrow(m.matches);
    on();
    m.addEventListener("change", on);
    return () => m.removeEventListener("change", on);
  }, [query]);
  return narrow;
}
