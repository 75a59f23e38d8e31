package api

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/clinicbook/booking/auth"
	"github.com/clinicbook/booking/config"
	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/store"
	"github.com/clinicbook/booking/store/storetest"
)

// FuzzCreateBookingBody feeds arbitrary bodies to the booking request's decoding and
// validation: every refusal must be a client error with a problem body, never a 500, and
// anything accepted must be complete.
func FuzzCreateBookingBody(f *testing.F) {
	for _, seed := range []string{
		`{"provider_id":"p","service_id":"s","start":"2030-01-07T09:00:00+01:00"}`,
		`{"provider_id":"p","service_id":"s","start":"2030-01-07T09:00:00Z","notes":"hi","patient_id":"x"}`,
		`{"provider_id":1}`, `[]`, `null`, `{}`, `{"start":"yesterday"}`, `{"unknown":true}`,
		`{"provider_id":"p"} {"x":1}`, `{"provider_id":"\u0000"}`, ``,
		`{"provider_id":"p","service_id":"s","start":"2030-01-07T09:00:00Z","notes":"a\u0000"}`,
	} {
		f.Add([]byte(seed), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, asPatient bool) {
		me := domain.Principal{UserID: "u-1", Role: domain.RoleAdmin}
		if asPatient {
			me.Role = domain.RolePatient
		}
		r := httptest.NewRequest(http.MethodPost, "/v1/bookings", bytes.NewReader(body))
		w := httptest.NewRecorder()
		req, start, err := readCreateBooking(w, r, me)
		if err == nil {
			if req.ProviderID == "" || req.ServiceID == "" || req.PatientID == "" || start.IsZero() {
				t.Fatalf("accepted an incomplete request %+v from %q", req, body)
			}
			return
		}
		writeError(w, r, err)
		if w.Code >= 500 || w.Code < 400 {
			t.Fatalf("body %q answered %d: %s", body, w.Code, w.Body)
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
			t.Fatalf("body %q answered %s", body, ct)
		}
	})
}

// FuzzRegisterBody posts arbitrary bodies to the real registration route, on a real
// database: whatever arrives, the answer is 201 or a client error, never a 500.
func FuzzRegisterBody(f *testing.F) {
	for _, seed := range []string{
		`{"email":"a@example.com","password":"long-enough-1","name":"A","phone":"+15550001234"}`,
		`{"email":"not an email","password":"x","name":"","phone":"123"}`,
		`{"email":"A@EXAMPLE.COM","password":"long-enough-1","name":"A","phone":"+15550001234"}`,
		`{}`, `{"email":5}`, `"str"`, `{"email":"a@b.c","extra":1}`,
		`{"email":"n@example.com","password":"long-enough-1","name":"A\u0000","phone":"+15550001234"}`, `{"name":"` + string(make([]byte, 300)) + `"}`,
	} {
		f.Add([]byte(seed))
	}
	pool := storetest.New(f)
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	jwtCfg := config.JWT{Issuer: "i", Audience: "a", AccessTTL: time.Minute, RefreshTTL: time.Hour,
		SigningKey: config.SigningKey{ID: "k", Key: key}, VerifyKeys: map[string]ed25519.PublicKey{"k": key.Public().(ed25519.PublicKey)}}
	st := store.New(pool)
	srv := &Server{Store: st, Accounts: auth.NewService(st, jwtCfg, time.Now, auth.Options{}), Metrics: NewRegistry(nil)}
	h := srv.Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/v1/auth/register", bytes.NewReader(body)).WithContext(context.Background())
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch {
		case w.Code == http.StatusCreated:
		case w.Code >= 400 && w.Code < 500 && w.Header().Get("Content-Type") == "application/problem+json":
		default:
			t.Fatalf("body %q answered %d: %s", body, w.Code, w.Body)
		}
	})
}
