-- The whole data model. The database enforces what must never break: unique emails, no two
-- bookings of one provider that hold time at once, one notification per booking, kind, channel
-- and revision.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE users (
    id            text PRIMARY KEY,
    email         text NOT NULL,
    password_hash text NOT NULL,
    name          text NOT NULL,
    phone         text NOT NULL DEFAULT '',
    role          text NOT NULL CHECK (role IN ('patient', 'provider', 'admin')),
    created_at    timestamptz NOT NULL DEFAULT now()
);
-- Emails are compared without case: Ann@x and ann@x are one account.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE providers (
    id         text PRIMARY KEY,
    user_id    text UNIQUE REFERENCES users (id),
    name       text NOT NULL,
    specialty  text NOT NULL DEFAULT '',
    time_zone  text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE services (
    id               text PRIMARY KEY,
    name             text NOT NULL UNIQUE,
    duration_minutes integer NOT NULL CHECK (duration_minutes BETWEEN 5 AND 480),
    created_at       timestamptz NOT NULL DEFAULT now()
);

-- Weekly working hours in the provider's own wall-clock time (minutes after local midnight),
-- so that 09:00 stays 09:00 across daylight-saving changes.
CREATE TABLE working_hours (
    provider_id  text NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    weekday      smallint NOT NULL CHECK (weekday BETWEEN 0 AND 6), -- 0 is Sunday
    start_minute smallint NOT NULL CHECK (start_minute BETWEEN 0 AND 1439),
    end_minute   smallint NOT NULL CHECK (end_minute BETWEEN 1 AND 1440),
    CHECK (start_minute < end_minute),
    PRIMARY KEY (provider_id, weekday, start_minute)
);

-- A dated exception replaces that local date's weekly hours: a closed day (no hours) or
-- changed hours (one row per interval).
CREATE TABLE schedule_exceptions (
    provider_id  text NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    day          date NOT NULL,
    start_minute smallint CHECK (start_minute BETWEEN 0 AND 1439),
    end_minute   smallint CHECK (end_minute BETWEEN 1 AND 1440),
    CHECK ((start_minute IS NULL) = (end_minute IS NULL)),
    CHECK (start_minute < end_minute)
);
CREATE INDEX schedule_exceptions_provider_day ON schedule_exceptions (provider_id, day);

CREATE TABLE bookings (
    id              text PRIMARY KEY,
    provider_id     text NOT NULL REFERENCES providers (id),
    service_id      text NOT NULL REFERENCES services (id),
    patient_id      text NOT NULL REFERENCES users (id),
    status          text NOT NULL CHECK (status IN ('held', 'confirmed', 'checked_in', 'completed', 'expired', 'cancelled', 'no_show')),
    start_at        timestamptz NOT NULL,
    end_at          timestamptz NOT NULL,
    during          tstzrange GENERATED ALWAYS AS (tstzrange(start_at, end_at, '[)')) STORED,
    hold_expires_at timestamptz,
    notes           text NOT NULL DEFAULT '',
    cancel_reason   text NOT NULL DEFAULT '',
    late_cancel     boolean NOT NULL DEFAULT false,
    revision        integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (start_at < end_at),
    -- The rule the whole platform rests on: one provider, one appointment at a time.
    CONSTRAINT bookings_no_overlap EXCLUDE USING gist (provider_id WITH =, during WITH &&)
        WHERE (status IN ('held', 'confirmed', 'checked_in'))
);
CREATE INDEX bookings_patient ON bookings (patient_id, start_at, id);
CREATE INDEX bookings_provider_start ON bookings (provider_id, start_at, id);
CREATE INDEX bookings_start ON bookings (start_at, id);

-- The timeline. The key makes an activity that runs twice write its event once.
CREATE TABLE booking_events (
    id         bigserial PRIMARY KEY,
    booking_id text NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
    key        text NOT NULL,
    type       text NOT NULL,
    at         timestamptz NOT NULL DEFAULT now(),
    detail     jsonb NOT NULL DEFAULT '{}',
    UNIQUE (booking_id, key)
);

-- One row per message, written before the send and updated after it: the unique key is what
-- keeps a retried or restarted send from becoming a second SMS or email.
CREATE TABLE notifications (
    id                  text PRIMARY KEY,
    booking_id          text NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
    kind                text NOT NULL CHECK (kind IN ('confirmation', 'reminder', 'cancellation', 'reschedule', 'no_show', 'hold_expired')),
    -- Which reminder (its offset, such as "24h"); empty for the other kinds.
    variant             text NOT NULL DEFAULT '',
    channel             text NOT NULL CHECK (channel IN ('sms', 'email')),
    -- The booking's revision (reschedule count) the message is about.
    revision            integer NOT NULL DEFAULT 0,
    recipient           text NOT NULL,
    status              text NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'queued', 'delivered', 'undelivered', 'failed', 'unknown')),
    provider_message_id text,
    error               text NOT NULL DEFAULT '',
    attempts            integer NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (booking_id, kind, variant, channel, revision)
);
CREATE UNIQUE INDEX notifications_provider_message ON notifications (provider_message_id) WHERE provider_message_id IS NOT NULL;

-- Refresh tokens are stored hashed; a family is one login's chain of rotations.
CREATE TABLE refresh_tokens (
    token_hash  text PRIMARY KEY,
    user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id   text NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- A client's Idempotency-Key maps to one booking id; the request hash catches a key reused
-- with another body.
CREATE TABLE idempotency_keys (
    user_id      text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key          text NOT NULL,
    request_hash text NOT NULL,
    booking_id   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);

-- Failed logins per email, for throttling.
CREATE TABLE login_failures (
    email      text PRIMARY KEY,
    failures   integer NOT NULL DEFAULT 0,
    locked_until timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
);
