package e2e

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/clinicbook/booking/domain"
)

// The access-control and input tests: over HTTP against the real stack, checking both the
// answer and that nothing changed behind it.

func TestOtherPatientsBookingsAnswerNotFound(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	ctx := context.Background()
	_, ann := p.patient("ann@example.com", "+15550201001")
	_, bob := p.patient("bob@example.com", "+15550201002")
	held := p.bookAt(ann, p.provider.ID, tomorrowAt(9, 0))
	confirmed := p.bookConfirmed(ann, tomorrowAt(10, 0))

	before := map[string]domain.Booking{}
	for _, id := range []string{held.ID, confirmed} {
		b, err := p.st.GetBooking(ctx, id)
		require.NoError(t, err)
		before[id] = b
	}
	for id := range before {
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/v1/bookings/" + id, nil},
			{"POST", "/v1/bookings/" + id + "/confirm", nil},
			{"POST", "/v1/bookings/" + id + "/cancel", map[string]any{"reason": "not mine"}},
			{"POST", "/v1/bookings/" + id + "/reschedule", map[string]any{"start": tomorrowAt(15, 0).Format(time.RFC3339)}},
		} {
			resp, body := p.jsonCall(c.method, c.path, bob, c.body)
			prob := requireProblem(t, resp, body, http.StatusNotFound)
			// Someone else's booking looks exactly like one that does not exist.
			resp, body = p.jsonCall(c.method, strings.Replace(c.path, id, uuid.NewString(), 1), bob, c.body)
			require.Equal(t, prob.Detail, requireProblem(t, resp, body, http.StatusNotFound).Detail, "%s %s", c.method, c.path)
		}
	}
	for id, b := range before {
		after, err := p.st.GetBooking(ctx, id)
		require.NoError(t, err)
		require.Equal(t, b, after)
	}

	// Bob's list holds none of Ann's bookings; Ann still reads hers.
	require.Empty(t, p.listBookingIDs(bob, ""))
	require.ElementsMatch(t, []string{held.ID, confirmed}, p.listBookingIDs(ann, ""))
}

func TestProviderSeesAndChecksInOnlyTheirOwnBookings(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	ctx := context.Background()
	_, patient := p.patient("pat@example.com", "+15550202001")
	doc, docToken := p.providerLogin("doc@example.com")

	// The next half-hour slot at least five minutes away starts within the hour.
	soonStart := time.Now().UTC().Add(5 * time.Minute).Truncate(30 * time.Minute)
	if soonStart.Before(time.Now().Add(5 * time.Minute)) {
		soonStart = soonStart.Add(30 * time.Minute)
	}
	// Dr. Test has a booking in the check-in window too, another patient's.
	_, neighbour := p.patient("neighbour@example.com", "+15550202002")
	soon := p.bookConfirmed(neighbour, soonStart)
	theirs := p.bookConfirmed(patient, tomorrowAt(11, 0))
	mineSoon := p.bookAt(patient, doc.ID, soonStart)
	require.Equal(t, http.StatusOK, p.do("POST", "/v1/bookings/"+mineSoon.ID+"/confirm", patient, nil, nil))
	mineLater := p.bookAt(patient, doc.ID, tomorrowAt(9, 0))
	require.Equal(t, http.StatusOK, p.do("POST", "/v1/bookings/"+mineLater.ID+"/confirm", patient, nil, nil))

	// The doctor lists only their own bookings, even when asking for another doctor's.
	require.ElementsMatch(t, []string{mineSoon.ID, mineLater.ID}, p.listBookingIDs(docToken, ""))
	require.Empty(t, p.listBookingIDs(docToken, "provider_id="+p.provider.ID))
	require.ElementsMatch(t, []string{theirs, mineSoon.ID, mineLater.ID}, p.listBookingIDs(patient, ""))

	// Another doctor's booking does not exist for them.
	for _, id := range []string{theirs, soon} {
		before, err := p.st.GetBooking(ctx, id)
		require.NoError(t, err)
		resp, body := p.jsonCall("GET", "/v1/bookings/"+id, docToken, nil)
		requireProblem(t, resp, body, http.StatusNotFound)
		resp, body = p.jsonCall("POST", "/v1/bookings/"+id+"/check-in", docToken, nil)
		requireProblem(t, resp, body, http.StatusNotFound)
		after, err := p.st.GetBooking(ctx, id)
		require.NoError(t, err)
		require.Equal(t, before, after)
	}
	var own bookingBody
	require.Equal(t, http.StatusOK, p.do("GET", "/v1/bookings/"+mineLater.ID, docToken, nil, &own))
	require.Equal(t, "confirmed", own.Status)

	// Check-in opens an hour before the start.
	resp, body := p.jsonCall("POST", "/v1/bookings/"+mineLater.ID+"/check-in", docToken, nil)
	requireProblem(t, resp, body, http.StatusConflict)
	// A patient cannot check in, not even their own booking.
	resp, body = p.jsonCall("POST", "/v1/bookings/"+mineSoon.ID+"/check-in", patient, nil)
	requireProblem(t, resp, body, http.StatusForbidden)
	for _, id := range []string{mineLater.ID, mineSoon.ID} {
		b, err := p.st.GetBooking(ctx, id)
		require.NoError(t, err)
		require.Equal(t, domain.StatusConfirmed, b.Status)
	}

	var checkedIn bookingBody
	require.Equal(t, http.StatusOK, p.do("POST", "/v1/bookings/"+mineSoon.ID+"/check-in", docToken, nil, &checkedIn))
	require.Equal(t, "checked_in", checkedIn.Status)
	require.Equal(t, http.StatusOK, p.do("GET", "/v1/bookings/"+mineSoon.ID, patient, nil, &own))
	require.Equal(t, "checked_in", own.Status)
}

func TestAdminOnlyRoutesRefuseOthers(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	_, patient := p.patient("curious@example.com", "+15550203001")
	_, docToken := p.providerLogin("doc@example.com")
	admin := p.adminLogin("admin@example.com")

	newProvider := map[string]any{"name": "Dr. Sneaky", "specialty": "General", "time_zone": "Europe/Berlin"}
	newService := map[string]any{"name": "Free surgery", "duration_minutes": 30}
	for _, token := range []string{patient, docToken} {
		resp, body := p.jsonCall("POST", "/v1/providers", token, newProvider)
		requireProblem(t, resp, body, http.StatusForbidden)
		resp, body = p.jsonCall("POST", "/v1/services", token, newService)
		requireProblem(t, resp, body, http.StatusForbidden)
	}
	var providers struct{ Providers []domain.Provider }
	var services struct{ Services []domain.Service }
	require.Equal(t, http.StatusOK, p.do("GET", "/v1/providers", "", nil, &providers))
	require.Len(t, providers.Providers, 2, "Dr. Test and the doctor with a login")
	require.Equal(t, http.StatusOK, p.do("GET", "/v1/services", "", nil, &services))
	require.Len(t, services.Services, 1)

	// The admin may.
	require.Equal(t, http.StatusCreated, p.do("POST", "/v1/providers", admin, newProvider, nil))
	require.Equal(t, http.StatusCreated, p.do("POST", "/v1/services", admin, newService, nil))
}

func TestListBookingsPagesAndFilters(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	_, patient := p.patient("pages@example.com", "+15550204001")
	_, other := p.patient("other@example.com", "+15550204002")
	var ids []string
	for i := range 5 {
		ids = append(ids, p.bookAt(patient, p.provider.ID, tomorrowAt(8+i, 0)).ID)
	}
	for _, id := range ids[1:3] {
		require.Equal(t, http.StatusOK, p.do("POST", "/v1/bookings/"+id+"/confirm", patient, nil, nil))
	}
	p.bookAt(other, p.provider.ID, tomorrowAt(7, 0)) // someone else's, never listed

	var seen []string
	pages := 0
	cursor := ""
	for {
		q := url.Values{"limit": {"2"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page struct {
			Bookings   []bookingBody `json:"bookings"`
			NextCursor *string       `json:"next_cursor"`
		}
		require.Equal(t, http.StatusOK, p.do("GET", "/v1/bookings?"+q.Encode(), patient, nil, &page))
		pages++
		require.LessOrEqual(t, len(page.Bookings), 2)
		for _, b := range page.Bookings {
			seen = append(seen, b.ID)
		}
		if page.NextCursor == nil {
			break
		}
		require.Less(t, pages, 5, "the cursor does not advance")
		cursor = *page.NextCursor
	}
	require.Equal(t, 3, pages)
	require.Equal(t, ids, seen, "every booking once, in start order")

	require.Equal(t, ids[1:3], p.listBookingIDs(patient, "status=confirmed"))
	require.Equal(t, []string{ids[0], ids[3], ids[4]}, p.listBookingIDs(patient, "status=held"))
	require.Empty(t, p.listBookingIDs(patient, "status=cancelled"))

	for query, field := range map[string]string{
		"status=lost": "status", "limit=0": "limit", "limit=101": "limit", "limit=two": "limit",
		"cursor=not-a-cursor": "cursor", "from=yesterday": "from",
	} {
		resp, body := p.jsonCall("GET", "/v1/bookings?"+query, patient, nil)
		prob := requireProblem(t, resp, body, http.StatusBadRequest)
		require.Equal(t, field, prob.field(), "%s: %s", query, body)
	}
}

func TestRequestBodiesAreChecked(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	ctx := context.Background()
	_, patient := p.patient("bodies@example.com", "+15550205001")
	valid := `{"provider_id": "` + p.provider.ID + `", "service_id": "` + p.service.ID + `", "start": "` + tomorrowAt(9, 0).Format(time.RFC3339) + `"`

	cases := []struct {
		name, contentType, body, field string
	}{
		{"malformed JSON", "application/json", valid, ""},
		{"unknown field", "application/json", valid + `, "discount": 100}`, "discount"},
		// Valid JSON but for the padding: refused for its size alone.
		{"larger than 64 KiB", "application/json", valid + strings.Repeat(" ", 64<<10) + "}", ""},
		{"not JSON", "text/plain", valid + "}", ""},
		{"form", "application/x-www-form-urlencoded", "provider_id=" + p.provider.ID, ""},
		{"two objects", "application/json", valid + "}{}", ""},
		{"wrong type", "application/json", `{"provider_id": 7}`, "provider_id"},
	}
	for _, c := range cases {
		resp, body := p.call("POST", "/v1/bookings", patient, c.contentType, []byte(c.body))
		prob := requireProblem(t, resp, body, http.StatusBadRequest)
		if c.field != "" {
			require.Equal(t, c.field, prob.field(), "%s: %s", c.name, body)
		}
	}
	var n int
	require.NoError(t, p.st.Pool().QueryRow(ctx, `SELECT count(*) FROM bookings`).Scan(&n))
	require.Zero(t, n)

	// The same body, well formed, is taken.
	resp, body := p.call("POST", "/v1/bookings", patient, "application/json", []byte(valid+"}"))
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", body)
}

func TestAccessTokensAreChecked(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	userID, _ := p.patient("tokens@example.com", "+15550206001")
	key := p.cfg.JWT.SigningKey
	claims := func(mod func(*jwt.RegisteredClaims)) jwt.MapClaims {
		now := time.Now()
		rc := jwt.RegisteredClaims{
			Issuer: p.cfg.JWT.Issuer, Audience: jwt.ClaimStrings{p.cfg.JWT.Audience}, Subject: userID,
			ExpiresAt: jwt.NewNumericDate(now.Add(10 * time.Minute)), IssuedAt: jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now), ID: uuid.NewString(),
		}
		if mod != nil {
			mod(&rc)
		}
		b, err := json.Marshal(rc)
		require.NoError(t, err)
		var m jwt.MapClaims
		require.NoError(t, json.Unmarshal(b, &m))
		m["role"] = "patient"
		return m
	}
	sign := func(method jwt.SigningMethod, c jwt.MapClaims, secret any) string {
		tok := jwt.NewWithClaims(method, c)
		tok.Header["kid"] = key.ID
		s, err := tok.SignedString(secret)
		require.NoError(t, err)
		return s
	}
	_, otherKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)

	// A token made here with the platform's key works: the refusals below are each about
	// the one thing that differs.
	good := sign(jwt.SigningMethodEdDSA, claims(nil), key.Key)
	require.Equal(t, http.StatusOK, p.do("GET", "/v1/me", good, nil, nil))

	forged := map[string]string{
		"no token": "",
		"expired": sign(jwt.SigningMethodEdDSA, claims(func(c *jwt.RegisteredClaims) {
			c.IssuedAt = jwt.NewNumericDate(time.Now().Add(-time.Hour))
			c.NotBefore = c.IssuedAt
			c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-10 * time.Minute))
		}), key.Key),
		"another Ed25519 key": sign(jwt.SigningMethodEdDSA, claims(nil), otherKey),
		"alg none":            sign(jwt.SigningMethodNone, claims(nil), jwt.UnsafeAllowNoneSignatureType),
		"HS256 keyed with the public key": sign(jwt.SigningMethodHS256, claims(nil),
			[]byte(key.Key.Public().(ed25519.PublicKey))),
		"wrong audience": sign(jwt.SigningMethodEdDSA, claims(func(c *jwt.RegisteredClaims) {
			c.Audience = jwt.ClaimStrings{"someone-else"}
		}), key.Key),
		"wrong issuer": sign(jwt.SigningMethodEdDSA, claims(func(c *jwt.RegisteredClaims) {
			c.Issuer = "someone-else"
		}), key.Key),
		"not a JWT": "Zm9v.YmFy.YmF6",
	}
	for name, token := range forged {
		for _, path := range []string{"/v1/me", "/v1/bookings"} {
			resp, body := p.call("GET", path, token, "", nil)
			requireProblem(t, resp, body, http.StatusUnauthorized)
			require.NotEmpty(t, resp.Header.Get("WWW-Authenticate"), "%s on %s", name, path)
		}
	}
}

// problemJSON is an RFC 9457 problem as the API writes it.
type problemJSON struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

// field is the first bad field the problem names, or "".
func (p problemJSON) field() string {
	if len(p.Errors) == 0 {
		return ""
	}
	return p.Errors[0].Field
}

// requireProblem checks that an answer is an application/problem+json of the given status.
func requireProblem(t testing.TB, resp *http.Response, body []byte, status int) problemJSON {
	t.Helper()
	require.Equal(t, status, resp.StatusCode, "%s %s: %s", resp.Request.Method, resp.Request.URL.Path, body)
	require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	var prob problemJSON
	require.NoError(t, json.Unmarshal(body, &prob), "%s", body)
	require.Equal(t, status, prob.Status)
	require.NotEmpty(t, prob.Type)
	require.NotEmpty(t, prob.Title)
	return prob
}

// jsonCall sends body (when not nil) as JSON and returns the whole answer.
func (p *platform) jsonCall(method, path, token string, body any) (*http.Response, []byte) {
	p.t.Helper()
	if body == nil {
		return p.call(method, path, token, "", nil)
	}
	b, err := json.Marshal(body)
	require.NoError(p.t, err)
	return p.call(method, path, token, "application/json", b)
}

// call sends a raw body with a content type (none when empty) and returns the whole answer.
func (p *platform) call(method, path, token, contentType string, body []byte) (*http.Response, []byte) {
	p.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, p.url+path, rd)
	require.NoError(p.t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return roundTrip(p.t, req)
}

func roundTrip(t testing.TB, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

// bookAt holds start with a provider for the token's patient.
func (p *platform) bookAt(token, providerID string, start time.Time) bookingBody {
	p.t.Helper()
	var b bookingBody
	status := p.do("POST", "/v1/bookings", token, map[string]any{
		"provider_id": providerID, "service_id": p.service.ID, "start": start.Format(time.RFC3339),
	}, &b)
	require.Equal(p.t, http.StatusCreated, status)
	require.Equal(p.t, "held", b.Status)
	return b
}

// listBookingIDs is the ids GET /v1/bookings?query answers with (one page of up to 100).
func (p *platform) listBookingIDs(token, query string) []string {
	p.t.Helper()
	var page struct {
		Bookings []bookingBody `json:"bookings"`
	}
	require.Equal(p.t, http.StatusOK, p.do("GET", "/v1/bookings?limit=100&"+query, token, nil, &page))
	ids := []string{}
	for _, b := range page.Bookings {
		ids = append(ids, b.ID)
	}
	return ids
}

// providerLogin adds a doctor with their own login, working around the clock like Dr. Test,
// and returns the doctor and an access token for them.
func (p *platform) providerLogin(email string) (domain.Provider, string) {
	p.t.Helper()
	ctx := context.Background()
	const password = "correct-horse-1"
	u, err := p.accounts.CreateUser(ctx, email, password, "Dr. Login", "", domain.RoleProvider)
	require.NoError(p.t, err)
	doc := domain.Provider{ID: uuid.NewString(), Name: "Dr. Login", Specialty: "Cardiology", TimeZone: "Europe/Berlin", UserID: u.ID}
	require.NoError(p.t, p.st.CreateProvider(ctx, doc))
	sched, err := p.st.GetSchedule(ctx, p.provider.ID)
	require.NoError(p.t, err)
	require.NoError(p.t, p.st.ReplaceSchedule(ctx, doc.ID, sched))
	return doc, p.login(email, password)
}

// adminLogin creates an admin and returns an access token for them.
func (p *platform) adminLogin(email string) string {
	p.t.Helper()
	const password = "correct-horse-1"
	_, err := p.accounts.CreateUser(context.Background(), email, password, "Admin", "", domain.RoleAdmin)
	require.NoError(p.t, err)
	return p.login(email, password)
}

func (p *platform) login(email, password string) string {
	p.t.Helper()
	var tokens struct {
		AccessToken string `json:"access_token"`
	}
	require.Equal(p.t, http.StatusOK, p.do("POST", "/v1/auth/login", "", map[string]any{"email": email, "password": password}, &tokens))
	require.NotEmpty(p.t, tokens.AccessToken)
	return tokens.AccessToken
}
