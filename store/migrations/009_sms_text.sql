-- The text an SMS send handed Twilio. When a send's outcome is unknown (the worker died, or
-- the answer was lost after Twilio took the message), the retry looks for exactly this text
-- at Twilio: the booking may have moved meanwhile, and the message rendered again would read
-- differently and not be found, so the patient would get it twice (make chaos found this).
ALTER TABLE notifications ADD COLUMN sms_text text NOT NULL DEFAULT '';
