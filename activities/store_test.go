package activities_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/clinicbook/booking/activities"
	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/store"
)

// The worker hands the activities a *store.Store: it must keep providing what they need.
var (
	_ activities.BookingStore   = (*store.Store)(nil)
	_ activities.ReconcileStore = (*store.Store)(nil)
)

// memStore is an in-memory stand-in for *store.Store with as much of its behaviour as the
// tests here use: booking and catalogue reads, the notification rows (keyed and guarded by
// status as the SQL is), the live-bookings listing, and a database outage to inject. The
// methods no test needs come from the embedded nil interfaces and panic if called.
type memStore struct {
	activities.BookingStore
	activities.ReconcileStore

	mu        sync.Mutex
	bookings  map[string]domain.Booking
	users     map[string]domain.User
	providers map[string]domain.Provider
	services  map[string]domain.Service
	notes     map[string]*memNote // by id
	live      []domain.Booking    // what LiveBookings lists

	// sentOutage makes this many MarkNotificationSent calls fail before one succeeds.
	sentOutage int
	// sentCalls counts MarkNotificationSent calls, failed ones included.
	sentCalls int
}

// memNote is a notification row and the SMS text it keeps.
type memNote struct {
	domain.Notification
	smsText string
}

func newMemStore() *memStore {
	return &memStore{bookings: map[string]domain.Booking{}, users: map[string]domain.User{},
		providers: map[string]domain.Provider{}, services: map[string]domain.Service{}, notes: map[string]*memNote{}}
}

func notFound(what, id string) error {
	return domain.Errorf(domain.KindNotFound, "%s %s not found", what, id)
}

func (m *memStore) GetBooking(ctx context.Context, id string) (domain.Booking, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.bookings[id]
	if !ok {
		return domain.Booking{}, notFound("booking", id)
	}
	return b, nil
}

func (m *memStore) GetUser(ctx context.Context, id string) (domain.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[id]
	if !ok {
		return domain.User{}, notFound("user", id)
	}
	return u, nil
}

func (m *memStore) GetProvider(ctx context.Context, id string) (domain.Provider, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.providers[id]
	if !ok {
		return domain.Provider{}, notFound("provider", id)
	}
	return p, nil
}

func (m *memStore) GetService(ctx context.Context, id string) (domain.Service, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.services[id]
	if !ok {
		return domain.Service{}, notFound("service", id)
	}
	return s, nil
}

// EnsureNotification inserts n unless a row with its booking, kind, variant, channel and
// revision exists, and returns the row as it is.
func (m *memStore) EnsureNotification(ctx context.Context, n domain.Notification) (domain.Notification, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.notes {
		if r.BookingID == n.BookingID && r.Kind == n.Kind && r.Variant == n.Variant && r.Channel == n.Channel && r.Revision == n.Revision {
			return r.Notification, nil
		}
	}
	n.Status = domain.NotificationPending
	n.CreatedAt, n.UpdatedAt = time.Now(), time.Now()
	m.notes[n.ID] = &memNote{Notification: n}
	return n, nil
}

// addNote writes a row as an earlier attempt left it.
func (m *memStore) addNote(n domain.Notification, smsText string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.notes[n.ID] = &memNote{Notification: n, smsText: smsText}
}

// note returns the booking's one notification row.
func (m *memStore) note(bookingID string) (memNote, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []memNote
	for _, r := range m.notes {
		if r.BookingID == bookingID {
			out = append(out, *r)
		}
	}
	if len(out) != 1 {
		return memNote{}, fmt.Errorf("booking %s has %d notification rows", bookingID, len(out))
	}
	return out[0], nil
}

// update applies f to row id; when unsent, only to a row still pending or sending, as the
// store's UPDATEs are guarded.
func (m *memStore) update(id string, unsent bool, f func(*memNote)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.notes[id]
	if !ok || unsent && r.Status != domain.NotificationPending && r.Status != domain.NotificationSending {
		return nil // an UPDATE that matches no row
	}
	f(r)
	r.UpdatedAt = time.Now()
	return nil
}

func (m *memStore) MarkNotificationSending(ctx context.Context, id string) error {
	return m.update(id, true, func(r *memNote) { r.Status = domain.NotificationSending; r.Attempts++ })
}

func (m *memStore) MarkSMSSending(ctx context.Context, id, text string) error {
	return m.update(id, true, func(r *memNote) { r.Status = domain.NotificationSending; r.Attempts++; r.smsText = text })
}

func (m *memStore) ClaimedProviderIDs(ctx context.Context, id string, sids []string) (map[string]bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	claimed := map[string]bool{}
	for _, r := range m.notes {
		if r.ID != id && slices.Contains(sids, r.ProviderMessageID) {
			claimed[r.ProviderMessageID] = true
		}
	}
	return claimed, nil
}

func (m *memStore) SentSMSText(ctx context.Context, id string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.notes[id]
	if !ok {
		return "", notFound("notification", id)
	}
	return r.smsText, nil
}

func (m *memStore) MarkNotificationSent(ctx context.Context, id, providerMessageID string) error {
	m.mu.Lock()
	m.sentCalls++
	if m.sentOutage > 0 {
		m.sentOutage--
		m.mu.Unlock()
		return errors.New("mark notification sent: dial tcp 127.0.0.1:5432: connect: connection refused")
	}
	m.mu.Unlock()
	return m.update(id, true, func(r *memNote) {
		r.Status, r.ProviderMessageID, r.Error = domain.NotificationSent, providerMessageID, ""
	})
}

func (m *memStore) MarkNotificationFailed(ctx context.Context, id, reason string) error {
	return m.update(id, false, func(r *memNote) { r.Status, r.Error = domain.NotificationFailed, reason })
}

func (m *memStore) MarkNotificationSkipped(ctx context.Context, id, reason string) error {
	return m.update(id, true, func(r *memNote) { r.Status, r.Error = domain.NotificationSkipped, reason })
}

func (m *memStore) NoteNotificationError(ctx context.Context, id, reason string) error {
	return m.update(id, false, func(r *memNote) { r.Error = reason })
}

// LiveBookings returns the page the test set, whatever is asked: the listing's own filter is
// the store's to test (store.TestReconcileListsLiveBookingsInPages).
func (m *memStore) LiveBookings(ctx context.Context, now time.Time, after store.Cursor, limit int) ([]domain.Booking, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]domain.Booking(nil), m.live...), nil
}
