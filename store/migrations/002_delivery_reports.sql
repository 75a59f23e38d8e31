-- Twilio can report on a message before we have stored its id (the report outruns our write,
-- or the send's answer was lost and the message found again later). Such reports wait here
-- and are applied when the id is stored, so no delivery status is lost.
CREATE TABLE delivery_reports (
    provider_message_id text PRIMARY KEY,
    status              text NOT NULL,
    received_at         timestamptz NOT NULL DEFAULT now()
);
