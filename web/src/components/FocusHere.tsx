// FocusHere wraps a message that just appeared (a problem, a success) and moves keyboard and
// screen-reader focus to it, so that nobody has to hunt for what changed. `focusKey` changes
// each time the message is new, so the same text shown again is focused again.
import { useEffect, useRef, type ReactNode } from "react";

export function FocusHere({ focusKey, children }: { focusKey: unknown; children: ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (focusKey === null || focusKey === undefined || focusKey === false) return;
    const el = ref.current;
    if (!el) return;
    el.focus({ preventScroll: true });
    el.scrollIntoView({ block: "nearest", behavior: "auto" });
  }, [focusKey]);
  return (
    <div ref={ref} tabIndex={-1} className="focus-target">
      {children}
    </div>
  );
}

// focusById moves focus to a heading (or any element) by id once React has drawn it: it looks
// for the element over the next frames, as the update that draws it may not have landed yet.
export function focusById(id: string, tries = 20) {
  window.requestAnimationFrame(() => {
    const el = document.getElementById(id);
    if (!el) {
      if (tries > 0) focusById(id, tries - 1);
      return;
    }
    if (!el.hasAttribute("tabindex")) el.tabIndex = -1;
    el.focus({ preventScroll: true });
    // Bring the whole panel the heading opens into view, so its buttons are on screen too.
    (el.closest("section, .panel") ?? el).scrollIntoView({ block: "nearest" });
  });
}
