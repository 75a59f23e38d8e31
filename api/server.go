// Package api is the platform's REST API: routes, input checks, authentication and the
// translation of domain errors into problem+json answers. Commands about bookings become
// Temporal updates; reads come from PostgreSQL.
package api

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/mux"
	"go.temporal.io/sdk/client"

	"github.com/clinicbook/booking/auth"
	"github.com/clinicbook/booking/codec"
	"github.com/clinicbook/booking/config"
	"github.com/clinicbook/booking/store"
)

// Server holds what the handlers need.
type Server struct {
	Store    *store.Store
	Temporal client.Client
	// Codec encrypts Temporal payloads; the codec server at /codec/ uses it for admins.
	Codec    *codec.Codec
	Accounts *auth.Service
	Config   config.Config
	// Now is the wall clock; tests move it.
	Now func() time.Time
	// Ready reports whether the dependencies answer; /readyz calls it.
	Ready func(ctx context.Context) error
	// Metrics is created by Handler when nil.
	Metrics *Registry
	// Codes sends contact verification codes (notify.CodeSender).
	Codes auth.CodeSender
	// Web is the built web app (web.Dist), served at / for every path that is not the API's;
	// without an index.html those paths answer 503, the app not being built.
	Web fs.FS

	// slots lets one request per slot at a time try to hold it.
	slots slotGate
	// docs holds the reference's files as read and hashed once (docsFile).
	docs sync.Map
}

// Handler is the whole API: every route behind the common middleware.
func (s *Server) Handler() http.Handler {
	if s.Metrics == nil {
		s.Metrics = NewRegistry(s.Store.CountByStatus)
	}
	r := s.router()
	return chain(r, withRequestID, withSecurityHeaders, withAccessLog, withRecovery, withCORS, s.withCodecCORS, s.Metrics.middleware(r))
}

// router holds every route, the web app's last; Handler puts the middleware around it.
func (s *Server) router() *mux.Router {
	r := mux.NewRouter()
	r.NotFoundHandler = http.HandlerFunc(s.notFound)
	r.MethodNotAllowedHandler = http.HandlerFunc(s.methodNotAllowed)

	r.HandleFunc("/healthz", s.healthz).Methods(http.MethodGet)
	r.HandleFunc("/readyz", s.readyz).Methods(http.MethodGet)
	r.HandleFunc("/openapi.yaml", serveOpenAPI).Methods(http.MethodGet)
	r.HandleFunc("/docs", s.serveDocs).Methods(http.MethodGet)
	r.HandleFunc("/docs/{file}", s.serveDocsFile).Methods(http.MethodGet)
	r.Handle("/codec/encode", s.requireCodecAuth(http.HandlerFunc(s.codecEncode))).Methods(http.MethodPost)
	r.Handle("/codec/decode", s.requireCodecAuth(http.HandlerFunc(s.codecDecode))).Methods(http.MethodPost)
	r.Handle("/codec/session", s.requireAuth(http.HandlerFunc(s.createCodecSession))).Methods(http.MethodPost)
	r.HandleFunc("/codec/session", s.deleteCodecSession).Methods(http.MethodDelete)
	r.HandleFunc("/codec", s.codecLogin).Methods(http.MethodGet)

	// Routes sit on the root router with their full path rather than on a /v1 subrouter:
	// gorilla/mux answers a wrong method on a subrouter's route with 404 instead of 405.
	public := func(path string, h http.HandlerFunc, method string) {
		r.HandleFunc("/v1"+path, h).Methods(method)
	}
	authed := func(path string, h http.HandlerFunc, method string) {
		r.Handle("/v1"+path, s.requireAuth(h)).Methods(method)
	}

	s.authRoutes(public, authed)

	public("/providers", s.listProviders, http.MethodGet)
	authed("/providers", s.createProvider, http.MethodPost)
	public("/providers/{id}", s.getProvider, http.MethodGet)
	authed("/providers/{id}/schedule", s.putSchedule, http.MethodPut)
	public("/providers/{id}/schedule", s.getSchedule, http.MethodGet)
	public("/providers/{id}/availability", s.availability, http.MethodGet)
	public("/services", s.listServices, http.MethodGet)
	authed("/services", s.createService, http.MethodPost)

	authed("/bookings", s.createBooking, http.MethodPost)
	authed("/bookings", s.listBookings, http.MethodGet)
	authed("/bookings/{id}", s.getBooking, http.MethodGet)
	authed("/bookings/{id}/calendar.ics", s.bookingCalendar, http.MethodGet)
	authed("/bookings/{id}/confirm", s.confirmBooking, http.MethodPost)
	authed("/bookings/{id}/cancel", s.cancelBooking, http.MethodPost)
	authed("/bookings/{id}/reschedule", s.rescheduleBooking, http.MethodPost)
	authed("/bookings/{id}/check-in", s.checkInBooking, http.MethodPost)

	public("/webhooks/twilio/status", s.twilioStatus, http.MethodPost)
	public("/webhooks/twilio/inbound", s.twilioInbound, http.MethodPost)

	// Last: the web app takes only what no route above claims.
	s.mountWebApp(r)
	return r
}

// OpsHandler is what the operations address serves: /metrics, which tells anyone who can read
// it how busy the clinic is and so stays off the public port, and the health checks.
func (s *Server) OpsHandler() http.Handler {
	if s.Metrics == nil {
		s.Metrics = NewRegistry(s.Store.CountByStatus)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.Metrics.Handler())
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	return withSecurityHeaders(mux)
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if s.Ready != nil {
		if err := s.Ready(ctx); err != nil {
			// The reason goes to the log, not to whoever asked.
			slog.WarnContext(r.Context(), "not ready", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
