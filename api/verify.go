package api

import (
	"net/http"
	"time"

	"github.com/clinicbook/booking/domain"
)

// verifyRoutes registers the contact verification routes; authRoutes calls it.
func (s *Server) verifyRoutes(authed func(path string, h http.HandlerFunc, method string)) {
	authed("/me/verify", s.startVerification, http.MethodPost)
	authed("/me/verify/confirm", s.confirmVerification, http.MethodPost)
}

type startVerificationRequest struct {
	Channel string `json:"channel"`
}

type startVerificationResponse struct {
	Channel string `json:"channel"`
	SentTo  string `json:"sent_to"`
	// ExpiresIn is how long the code stays valid, in seconds.
	ExpiresIn int `json:"expires_in"`
}

// startVerification sends a code to the caller's email or phone. It answers 202 once the
// provider has taken the message, so a 202 means the code is on its way; a provider that
// fails is 503 and the code is not kept.
func (s *Server) startVerification(w http.ResponseWriter, r *http.Request) {
	var req startVerificationRequest
	if err := decode(w, r, &req, false); err != nil {
		writeError(w, r, err)
		return
	}
	if err := s.Accounts.AdmitCodeRequest(r.Context(), clientKey(r, s.Config.Limits.TrustedProxies)); err != nil {
		writeError(w, r, err)
		return
	}
	pending, err := s.Accounts.StartVerification(r.Context(), caller(r).UserID, req.Channel, s.Codes)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, startVerificationResponse{
		Channel: pending.Channel, SentTo: pending.SentTo, ExpiresIn: int(pending.ExpiresIn / time.Second),
	})
}

type confirmVerificationRequest struct {
	Channel string `json:"channel"`
	Code    string `json:"code"`
}

// confirmVerification checks a code and answers with the caller, as GET /v1/me does. A wrong
// code is 422 naming the field "code"; an expired code, one used up by 5 wrong tries, or none
// pending is 409: only a new code helps, which waiting (429) would not suggest.
func (s *Server) confirmVerification(w http.ResponseWriter, r *http.Request) {
	var req confirmVerificationRequest
	if err := decode(w, r, &req, false); err != nil {
		writeError(w, r, err)
		return
	}
	if req.Code == "" {
		writeError(w, r, domain.Invalid("code is required", domain.FieldError{Field: "code", Message: "required"}))
		return
	}
	u, err := s.Accounts.ConfirmVerification(r.Context(), caller(r).UserID, req.Channel, req.Code)
	if err != nil {
		writeError(w, r, err)
		return
	}
	v, err := s.callerView(r.Context(), u)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}
