// React's view of the session, and the guard that sends visitors to log in and back.
import { useEffect, useState, useSyncExternalStore, type ReactNode } from "react";
import { Navigate, useLocation } from "react-router-dom";
import type { User } from "./api/client";
import { session } from "./session";
import { Loading } from "./ui";

type Role = User["role"];

let version = 0;
session.subscribe(() => version++);

export function useSession(): { user: User | null; expired: boolean } {
  useSyncExternalStore(session.subscribe, () => version);
  return { user: session.user(), expired: session.expired() };
}

// useRestored tries the refresh cookie once when the page loads, so a reload keeps the user
// signed in without the refresh token ever being readable by script.
let restore: Promise<unknown> | null = null;
export function useRestored(): boolean {
  const [done, setDone] = useState(session.user() !== null);
  useEffect(() => {
    if (done) return;
    restore ??= session.refresh();
    let live = true;
    void restore.then(() => live && setDone(true));
    return () => {
      live = false;
    };
  }, [done]);
  return done;
}

export function homeFor(user: User | null): string {
  switch (user?.role) {
    case "admin":
      return "/admin";
    case "provider":
      return "/doctor";
    default:
      return "/book";
  }
}

// RequireAuth renders its children for a signed-in user of one of the roles; anyone else is
// sent to the login page, which brings them back here afterwards.
export function RequireAuth({ roles, children }: { roles?: Role[]; children: ReactNode }) {
  const restored = useRestored();
  const { user, expired } = useSession();
  const location = useLocation();
  if (!restored) return <Loading what="Checking your session" />;
  if (!user) {
    // A session that just ended says so on the login page; a visitor is simply asked to log in.
    const next = encodeURIComponent(location.pathname + location.search);
    return <Navigate to={`/login?${expired ? "expired=1&" : ""}next=${next}`} replace />;
  }
  if (roles && !roles.includes(user.role)) return <Navigate to={homeFor(user)} replace />;
  return <>{children}</>;
}
