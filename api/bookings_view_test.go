package api_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/clinicbook/booking/auth"
	"github.com/clinicbook/booking/config"
	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/store"
	"github.com/clinicbook/booking/store/storetest"
)

// nameReads counts the statements that read users' names for a page of bookings.
type nameReads struct {
	mu sync.Mutex
	n  int
}

func (c *nameReads) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if strings.Contains(d.SQL, "FROM users") && strings.Contains(d.SQL, "ANY(") {
		c.mu.Lock()
		c.n++
		c.mu.Unlock()
	}
	return ctx
}

func (c *nameReads) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *nameReads) take() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = 0
	return n
}

// clinic is a small clinic in the database: a doctor with a login and one without, two
// patients, an admin, and bookings in several states.
type clinic struct {
	e      *apiEnv
	reads  *nameReads
	doc    domain.Provider
	other  domain.Provider
	svc    domain.Service
	ann    domain.User
	bob    domain.User
	tokens map[string]string // by role name: admin, doc, ann, bob, lonely (a provider login no provider names)
	// bookings by name: annConfirmed, annHeld, annExpired (all with doc), bobConfirmed (doc),
	// bobCancelled (other).
	bookings map[string]domain.Booking
}

func newClinic(t *testing.T, adjust ...func(*config.Config)) *clinic {
	t.Helper()
	ctx := context.Background()
	reads := &nameReads{}
	pool, err := store.Open(ctx, storetest.NewURL(t), store.WithTracer(reads))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	st := store.New(pool)
	e := newAPIEnv(t, st, adjust...)
	c := &clinic{e: e, reads: reads, tokens: map[string]string{}, bookings: map[string]domain.Booking{}}

	user := func(key, email, name string, role domain.Role) domain.User {
		u, err := e.accounts.CreateUser(ctx, email, "password-1", name, "", role)
		require.NoError(t, err)
		tok, err := e.accounts.Login(ctx, auth.LoginInput{Email: email, Password: "password-1"})
		require.NoError(t, err)
		c.tokens[key] = tok.AccessToken
		return u
	}
	user("admin", "admin@example.com", "Admin", domain.RoleAdmin)
	docUser := user("doc", "doc@example.com", "Dr. Doc", domain.RoleProvider)
	user("lonely", "lonely@example.com", "Dr. Lonely", domain.RoleProvider)
	c.ann = user("ann", "ann@example.com", "Ann Smith", domain.RolePatient)
	c.bob = user("bob", "bob@example.com", "Bob Jones", domain.RolePatient)

	c.doc = domain.Provider{ID: "prov-doc", Name: "Dr. Doc", Specialty: "General", TimeZone: "Europe/Berlin", UserID: docUser.ID}
	c.other = domain.Provider{ID: "prov-other", Name: "Dr. Other", Specialty: "General", TimeZone: "America/New_York"}
	require.NoError(t, st.CreateProvider(ctx, c.doc))
	require.NoError(t, st.CreateProvider(ctx, c.other))
	c.svc = domain.Service{ID: "svc-30", Name: "Consultation", DurationMinutes: 30}
	require.NoError(t, st.CreateService(ctx, c.svc))

	base := time.Now().UTC().Add(48 * time.Hour).Truncate(time.Hour)
	book := func(name string, patient domain.User, prov domain.Provider, at time.Duration, to domain.Status) {
		exp := time.Now().Add(10 * time.Minute)
		b, err := st.CreateHold(ctx, domain.Booking{ID: "bk-" + name, ProviderID: prov.ID, ServiceID: c.svc.ID, PatientID: patient.ID,
			Start: base.Add(at), End: base.Add(at + 30*time.Minute), HoldExpiresAt: &exp}, 0, store.EventInput{})
		require.NoError(t, err)
		if to != domain.StatusHeld {
			b, err = st.ChangeStatus(ctx, store.StatusChange{BookingID: b.ID, From: []domain.Status{domain.StatusHeld}, To: to})
			require.NoError(t, err)
		}
		c.bookings[name] = b
	}
	book("annConfirmed", c.ann, c.doc, 0, domain.StatusConfirmed)
	book("annHeld", c.ann, c.doc, time.Hour, domain.StatusHeld)
	book("annExpired", c.ann, c.doc, 2*time.Hour, domain.StatusExpired)
	book("bobConfirmed", c.bob, c.doc, 3*time.Hour, domain.StatusConfirmed)
	book("bobCancelled", c.bob, c.other, 0, domain.StatusCancelled)
	reads.take()
	return c
}

func (c *clinic) get(t *testing.T, who, path string) apiAnswer {
	t.Helper()
	return c.e.call(t, "GET", path, c.tokens[who], "", nil)
}

// page is GET /v1/bookings for who, by booking id.
func (c *clinic) page(t *testing.T, who string) map[string]map[string]any {
	t.Helper()
	a := c.get(t, who, "/v1/bookings?limit=100")
	require.Equal(t, http.StatusOK, a.Status, "%s", a.Raw)
	out := map[string]map[string]any{}
	for _, b := range a.Body["bookings"].([]any) {
		m := b.(map[string]any)
		out[m["id"].(string)] = m
	}
	return out
}

func TestMeNamesTheDoctorsProvider(t *testing.T) {
	c := newClinic(t)
	me := c.get(t, "doc", "/v1/me")
	require.Equal(t, http.StatusOK, me.Status, "%s", me.Raw)
	require.Equal(t, "provider", me.Body["role"])
	require.Equal(t, c.doc.ID, me.Body["provider_id"])

	for _, who := range []string{"lonely", "ann", "admin"} {
		me := c.get(t, who, "/v1/me")
		require.Equal(t, http.StatusOK, me.Status, "%s", me.Raw)
		require.NotContains(t, me.Body, "provider_id", who)
	}
}

func TestBookingsShowStaffThePatientsNameAndAdminsTheWorkflow(t *testing.T) {
	c := newClinic(t, func(cfg *config.Config) {
		cfg.Temporal.Namespace = "clinic one/x"
		cfg.Temporal.UIURL = "https://ui.example"
	})
	name := map[string]string{c.ann.ID: "Ann Smith", c.bob.ID: "Bob Jones"}
	workflow := func(id string) string {
		return "https://ui.example/namespaces/clinic%20one%2Fx/workflows/booking-" + id
	}

	// Admins: every booking, with the patient's name and the workflow's address, the names of
	// the whole page read in one statement.
	all := c.page(t, "admin")
	require.Len(t, all, len(c.bookings))
	require.Equal(t, 1, c.reads.take(), "statements reading names for one page")
	for id, b := range all {
		require.Equal(t, name[b["patient_id"].(string)], b["patient_name"], id)
		require.Equal(t, workflow(id), b["workflow_url"], id)
	}

	// The doctor: their bookings, with names, without the Temporal link.
	mine := c.page(t, "doc")
	require.Len(t, mine, 4)
	require.Equal(t, 1, c.reads.take())
	for id, b := range mine {
		require.Equal(t, name[b["patient_id"].(string)], b["patient_name"], id)
		require.NotContains(t, b, "workflow_url", id)
	}

	// A patient: neither.
	own := c.page(t, "ann")
	require.Len(t, own, 3)
	require.Zero(t, c.reads.take(), "a patient's page reads no names")
	for id, b := range own {
		require.NotContains(t, b, "patient_name", id)
		require.NotContains(t, b, "workflow_url", id)
	}

	// One booking follows the same rules.
	id := c.bookings["bobConfirmed"].ID
	one := c.get(t, "admin", "/v1/bookings/"+id)
	require.Equal(t, http.StatusOK, one.Status, "%s", one.Raw)
	require.Equal(t, "Bob Jones", one.Body["patient_name"])
	require.Equal(t, workflow(id), one.Body["workflow_url"])
	one = c.get(t, "doc", "/v1/bookings/"+id)
	require.Equal(t, "Bob Jones", one.Body["patient_name"])
	require.NotContains(t, one.Body, "workflow_url")
	one = c.get(t, "bob", "/v1/bookings/"+id)
	require.Equal(t, http.StatusOK, one.Status)
	require.NotContains(t, one.Body, "patient_name")
	require.NotContains(t, one.Body, "workflow_url")
	require.Equal(t, http.StatusNotFound, c.get(t, "ann", "/v1/bookings/"+id).Status)
}

func TestNoWorkflowLinkWithoutAWebUI(t *testing.T) {
	c := newClinic(t, func(cfg *config.Config) { cfg.Temporal.UIURL = "" })
	for id, b := range c.page(t, "admin") {
		require.NotContains(t, b, "workflow_url", id)
		require.NotEmpty(t, b["patient_name"], id)
	}
}

func TestBookingCalendar(t *testing.T) {
	c := newClinic(t)
	ics := func(who, name string) apiAnswer {
		t.Helper()
		return c.get(t, who, "/v1/bookings/"+c.bookings[name].ID+"/calendar.ics")
	}
	requireInvite := func(a apiAnswer, b domain.Booking, method string) string {
		t.Helper()
		require.Equal(t, http.StatusOK, a.Status, "%s", a.Raw)
		require.Equal(t, "text/calendar; charset=utf-8", a.Header.Get("Content-Type"))
		require.Equal(t, `attachment; filename="booking-`+b.ID+`.ics"`, a.Header.Get("Content-Disposition"))
		require.Equal(t, "no-store", a.Header.Get("Cache-Control"))
		body := string(a.Raw)
		require.True(t, strings.HasPrefix(body, "BEGIN:VCALENDAR\r\n"), body)
		for _, line := range []string{
			"METHOD:" + method,
			"UID:booking-" + b.ID + "@clinicbook",
			"DTSTART:" + b.Start.UTC().Format("20060102T150405Z"),
			"DTEND:" + b.End.UTC().Format("20060102T150405Z"),
		} {
			require.Contains(t, body, "\r\n"+line+"\r\n", body)
		}
		return body
	}

	// The patient's own: the appointment, as the confirmation email's invite has it.
	body := requireInvite(ics("ann", "annConfirmed"), c.bookings["annConfirmed"], "REQUEST")
	require.Contains(t, body, "SUMMARY:Consultation with Dr. Doc")
	require.Contains(t, body, "ann@example.com")
	requireInvite(ics("ann", "annHeld"), c.bookings["annHeld"], "REQUEST")
	// The doctor's and any for an admin.
	requireInvite(ics("doc", "bobConfirmed"), c.bookings["bobConfirmed"], "REQUEST")
	// A cancelled booking's download removes the event.
	body = requireInvite(ics("admin", "bobCancelled"), c.bookings["bobCancelled"], "CANCEL")
	require.Contains(t, body, "STATUS:CANCELLED")

	// Someone else's is not found, exactly like one that does not exist.
	for _, a := range []apiAnswer{ics("bob", "annConfirmed"), ics("doc", "bobCancelled"), c.get(t, "ann", "/v1/bookings/nope/calendar.ics")} {
		require.Equal(t, http.StatusNotFound, a.Status, "%s", a.Raw)
		require.Equal(t, "application/problem+json", a.Header.Get("Content-Type"))
	}
	// A lapsed hold never was an appointment.
	expired := ics("ann", "annExpired")
	require.Equal(t, http.StatusConflict, expired.Status, "%s", expired.Raw)
	require.Equal(t, "application/problem+json", expired.Header.Get("Content-Type"))
	// And a token is needed.
	anon := c.e.call(t, "GET", "/v1/bookings/"+c.bookings["annConfirmed"].ID+"/calendar.ics", "", "", nil)
	require.Equal(t, http.StatusUnauthorized, anon.Status)
}
