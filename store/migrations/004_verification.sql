-- Verified contacts. Messages go only to an address its owner proved they read, so that sign-up
-- with someone else's number or email cannot make the clinic write to them.
ALTER TABLE users ADD COLUMN email_verified_at timestamptz,
                  ADD COLUMN phone_verified_at timestamptz;

-- A phone number is verified by at most one account: an SMS reply then names one patient.
CREATE UNIQUE INDEX users_verified_phone_key ON users (phone) WHERE phone_verified_at IS NOT NULL;

-- The one pending code per account and channel. Only an HMAC of it is kept, bound to the
-- address it was sent to, so a code sent to an old number proves nothing about a new one.
CREATE TABLE verification_codes (
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel    text NOT NULL CHECK (channel IN ('email', 'sms')),
    sent_to    text NOT NULL,
    code_hash  text NOT NULL,
    expires_at timestamptz NOT NULL,
    attempts   integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, channel)
);

-- Each code sent, kept an hour, to limit resends per account and channel, and per address
-- across accounts (many sign-ups with one victim's number must not flood it).
CREATE TABLE verification_sends (
    user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel text NOT NULL,
    sent_to text NOT NULL,
    sent_at timestamptz NOT NULL
);
CREATE INDEX verification_sends_user ON verification_sends (user_id, channel, sent_at);
CREATE INDEX verification_sends_address ON verification_sends (sent_to, sent_at);

-- Each inbound SMS Twilio delivered, by its MessageSid: Twilio retries a webhook it did not
-- hear back from, and a reply must act once.
CREATE TABLE inbound_messages (
    message_sid text PRIMARY KEY,
    from_number text NOT NULL,
    reply       text NOT NULL DEFAULT '',
    received_at timestamptz NOT NULL
);
CREATE INDEX inbound_messages_received ON inbound_messages (received_at);
