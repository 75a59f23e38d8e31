// Package e2e holds the end-to-end tests: the API and a worker in this process, over HTTP,
// against the real Temporal dev server, PostgreSQL, the Twilio sandbox and Mailpit.
package e2e
