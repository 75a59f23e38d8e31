// HoldCountdown shows how long a held slot stays held, as mm:ss. The visible clock ticks each
// second but is not announced; a polite live region speaks once a minute (and in the last
// half minute), so screen-reader users hear the time running out without a word every second.
import { useEffect, useRef, useState } from "react";

export function HoldCountdown({ until, onExpire }: { until: string; onExpire?: () => void }) {
  const end = Date.parse(until);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(t);
  }, []);
  const left = Math.max(0, Math.ceil((end - now) / 1000));
  const expire = useRef(onExpire);
  expire.current = onExpire;
  const fired = useRef(false);
  useEffect(() => {
    if (left === 0 && !fired.current) {
      fired.current = true;
      expire.current?.();
    }
  }, [left]);

  const mm = String(Math.floor(left / 60)).padStart(2, "0");
  const ss = String(left % 60).padStart(2, "0");
  const minutes = Math.ceil(left / 60);
  let spoken: string;
  if (left === 0) spoken = "The hold has lapsed.";
  else if (left <= 30) spoken = "Less than 30 seconds left to confirm.";
  else if (minutes === 1) spoken = "Less than a minute left to confirm.";
  else spoken = `Less than ${minutes} minutes left to confirm.`;

  return (
    <div className="hold-clock">
      <p>
        Held for you for{" "}
        <span className="countdown" role="timer" aria-live="off" aria-atomic="true">
          <time dateTime={`PT${Math.floor(left / 60)}M${left % 60}S`}>
            {mm}:{ss}
          </time>
        </span>{" "}
        more. Confirm it before the time runs out.
      </p>
      <p className="sr-only" aria-live="polite" aria-atomic="true">
        {spoken}
      </p>
    </div>
  );
}
