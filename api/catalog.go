package api

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/clinicbook/booking/availability"
	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/store"
)

func (s *Server) listProviders(w http.ResponseWriter, r *http.Request) {
	ps, err := s.Store.ListProviders(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"providers": ps})
}

func (s *Server) getProvider(w http.ResponseWriter, r *http.Request) {
	p, err := s.Store.GetProvider(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

type createProviderRequest struct {
	Name      string `json:"name"`
	Specialty string `json:"specialty"`
	TimeZone  string `json:"time_zone"`
	// An optional login for the doctor.
	Email    string `json:"email,omitempty"`
	Password string `json:"password,omitempty"`
	Phone    string `json:"phone,omitempty"`
}

func (s *Server) createProvider(w http.ResponseWriter, r *http.Request) {
	var req createProviderRequest
	if err := decodeAsAdmin(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	var fe domain.FieldErrors
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" || len(req.Name) > 200 {
		fe.Add("name", "required, at most 200 characters")
	} else if domain.HasControl(req.Name) {
		// Names reach message subjects and calendar invites, where a line break is a new
		// header or property.
		fe.Add("name", "must not contain control characters such as line breaks")
	}
	if len(req.Specialty) > 200 {
		fe.Add("specialty", "at most 200 characters")
	} else if domain.HasControl(req.Specialty) {
		fe.Add("specialty", "must not contain control characters such as line breaks")
	}
	if _, err := time.LoadLocation(req.TimeZone); err != nil || req.TimeZone == "" || req.TimeZone == "Local" {
		fe.Add("time_zone", "must be an IANA time zone such as Europe/Berlin")
	}
	if (req.Email == "") != (req.Password == "") {
		fe.Add("password", "email and password go together")
	}
	if err := fe.Err("the provider is not valid"); err != nil {
		writeError(w, r, err)
		return
	}
	p := domain.Provider{ID: uuid.NewString(), Name: req.Name, Specialty: req.Specialty, TimeZone: req.TimeZone}
	if req.Email != "" {
		u, err := s.Accounts.CreateUser(r.Context(), req.Email, req.Password, req.Name, req.Phone, domain.RoleProvider)
		if err != nil {
			writeError(w, r, err)
			return
		}
		p.UserID = u.ID
	}
	if err := s.Store.CreateProvider(r.Context(), p); err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/providers/"+p.ID)
	writeJSON(w, http.StatusCreated, p)
}

func (s *Server) getSchedule(w http.ResponseWriter, r *http.Request) {
	sched, err := s.Store.GetSchedule(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sched)
}

type scheduleRequest struct {
	Weekly     []domain.WorkingHours `json:"weekly"`
	Exceptions []domain.Exception    `json:"exceptions"`
}

// putSchedule replaces a provider's schedule: an admin's, or the provider's own.
func (s *Server) putSchedule(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	p, err := s.Store.GetProvider(r.Context(), id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if me := caller(r); me.Role != domain.RoleAdmin && (me.Role != domain.RoleProvider || p.UserID != me.UserID) {
		writeError(w, r, domain.Errorf(domain.KindForbidden, "only an admin or the provider may change this schedule"))
		return
	}
	var req scheduleRequest
	if err := decode(w, r, &req, false); err != nil {
		writeError(w, r, err)
		return
	}
	sched := domain.Schedule{TimeZone: p.TimeZone, Weekly: req.Weekly, Exceptions: req.Exceptions}
	if err := availability.ValidateSchedule(sched); err != nil {
		writeError(w, r, err)
		return
	}
	if err := s.Store.ReplaceSchedule(r.Context(), id, sched); err != nil {
		writeError(w, r, err)
		return
	}
	s.getSchedule(w, r)
}

// decodeAsAdmin refuses callers who are not admins, then reads the body.
func decodeAsAdmin(w http.ResponseWriter, r *http.Request, v any) error {
	if err := requireRole(r, domain.RoleAdmin); err != nil {
		return err
	}
	return decode(w, r, v, false)
}

// defaultAvailabilityWindow is the range shown when the caller gives no "to".
const defaultAvailabilityWindow = 7 * 24 * time.Hour

// availability answers the free slots of a service with a provider in [from, to). A range that
// cannot be answered is refused before the database is asked, and the rest is read in one
// statement (store.Calendar).
func (s *Server) availability(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var fe domain.FieldErrors
	serviceID := q.Get("service_id")
	if serviceID == "" {
		fe.Add("service_id", "required")
	}
	now := s.now()
	from := parseTimeParam(q.Get("from"), now, "from", &fe)
	to := parseTimeParam(q.Get("to"), from.Add(defaultAvailabilityWindow), "to", &fe)
	if len(fe) == 0 {
		if !to.After(from) {
			fe.Add("to", "must be after from")
		} else if to.Sub(from) > availability.MaxRange {
			fe.Add("to", "the range may span at most %d days", int(availability.MaxRange/(24*time.Hour)))
		}
	}
	if err := fe.Err("the query is not valid"); err != nil {
		writeError(w, r, err)
		return
	}
	// Slots lie after now and start at most the booking horizon ahead: nothing else could be
	// booked. A window wholly in the past has none; one wholly past the horizon is refused as a
	// booking there would be.
	if !to.After(now) {
		writeJSON(w, http.StatusOK, map[string]any{"slots": []domain.Slot{}})
		return
	}
	latest := time.Time{}
	if h := s.Config.Limits.BookingHorizon; h > 0 {
		latest = now.Add(h)
		if from.After(latest) {
			days := int(h / (24 * time.Hour))
			writeError(w, r, &domain.Error{Kind: domain.KindUnprocessable, Message: fmt.Sprintf("bookings can be made at most %d days ahead", days),
				Fields: []domain.FieldError{{Field: "from", Message: fmt.Sprintf("more than %d days ahead", days)}}})
			return
		}
		// The last bookable slot starts at latest and may run a service's length past it.
		if limit := latest.Add(store.MaxBookingLength); to.After(limit) {
			to = limit
		}
	}
	if from.Before(now) {
		from = now
	}
	cal, err := s.Store.Calendar(r.Context(), mux.Vars(r)["id"], serviceID, from, to)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if cal.Length == 0 {
		writeError(w, r, domain.Invalid("unknown service", domain.FieldError{Field: "service_id", Message: "no such service"}))
		return
	}
	slots, err := availability.Slots(cal.Schedule, cal.Length, from, to, now, cal.Busy)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if !latest.IsZero() {
		// Slots are in start order.
		n := len(slots)
		for n > 0 && slots[n-1].Start.After(latest) {
			n--
		}
		slots = slots[:n]
	}
	writeJSON(w, http.StatusOK, map[string]any{"slots": slots})
}

// parseTimeParam reads an RFC 3339 query parameter, def when it is absent.
func parseTimeParam(v string, def time.Time, field string, fe *domain.FieldErrors) time.Time {
	if v == "" {
		return def
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		fe.Add(field, "must be an RFC 3339 time with offset, such as 2026-12-01T09:00:00+01:00")
		return def
	}
	return t
}

func (s *Server) listServices(w http.ResponseWriter, r *http.Request) {
	svcs, err := s.Store.ListServices(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"services": svcs})
}

type createServiceRequest struct {
	Name            string `json:"name"`
	DurationMinutes int    `json:"duration_minutes"`
}

func (s *Server) createService(w http.ResponseWriter, r *http.Request) {
	var req createServiceRequest
	if err := decodeAsAdmin(w, r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	var fe domain.FieldErrors
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" || len(req.Name) > 200 {
		fe.Add("name", "required, at most 200 characters")
	} else if domain.HasControl(req.Name) {
		// Names reach message subjects and calendar invites, where a line break is a new
		// header or property.
		fe.Add("name", "must not contain control characters such as line breaks")
	}
	if req.DurationMinutes < 5 || req.DurationMinutes > 480 || req.DurationMinutes%5 != 0 {
		fe.Add("duration_minutes", "must be a multiple of 5 between 5 and 480")
	}
	if err := fe.Err("the service is not valid"); err != nil {
		writeError(w, r, err)
		return
	}
	svc := domain.Service{ID: uuid.NewString(), Name: req.Name, DurationMinutes: req.DurationMinutes}
	if err := s.Store.CreateService(r.Context(), svc); err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/services/"+svc.ID)
	writeJSON(w, http.StatusCreated, svc)
}
