-- Failed logins are counted per (email, client address), so that guesses from one address
-- lock that address out of the account and no other: the owner still logs in from theirs.
-- The old per-email counts are dropped; at worst a lock in force ends early.
DROP TABLE login_failures;

CREATE TABLE login_failures (
    email        text NOT NULL,
    client_addr  text NOT NULL,
    failures     integer NOT NULL DEFAULT 0,
    locked_until timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (email, client_addr)
);
CREATE INDEX login_failures_updated_at ON login_failures (updated_at);

-- Fixed-window counters shared by every API replica, keyed by what is limited and for whom
-- ('login:<address>', 'register:<address>'). count may exceed the limit by one: that marks a
-- window in which something was refused.
CREATE TABLE rate_limits (
    key        text PRIMARY KEY,
    count      integer NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX rate_limits_expires_at ON rate_limits (expires_at);
