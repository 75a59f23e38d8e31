package api

import (
	"context"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/clinicbook/booking/auth"
	"github.com/clinicbook/booking/domain"
)

// authRoutes registers sign-up, login, token refresh, logout and /me. Paths are relative to /v1.
func (s *Server) authRoutes(public, authed func(path string, h http.HandlerFunc, method string)) {
	public("/auth/register", s.register, http.MethodPost)
	public("/auth/login", s.login, http.MethodPost)
	public("/auth/refresh", s.refresh, http.MethodPost)
	public("/auth/logout", s.logout, http.MethodPost)
	authed("/me", s.me, http.MethodGet)
	s.verifyRoutes(authed)
}

// userResponse is the account as the API shows it; the password hash never leaves.
type userResponse struct {
	ID    string      `json:"id"`
	Email string      `json:"email"`
	Name  string      `json:"name"`
	Phone string      `json:"phone"`
	Role  domain.Role `json:"role"`

	EmailVerified bool `json:"email_verified"`
	PhoneVerified bool `json:"phone_verified"`

	// ProviderID is the provider a doctor's login belongs to, so that their app can ask for
	// their own bookings and schedule; set for role provider only.
	ProviderID string `json:"provider_id,omitempty"`
}

func toUserResponse(u domain.User) userResponse {
	return userResponse{ID: u.ID, Email: u.Email, Name: u.Name, Phone: u.Phone, Role: u.Role,
		EmailVerified: u.EmailVerified, PhoneVerified: u.PhoneVerified}
}

// callerView is the account as GET /v1/me shows it: with, for a doctor's login, the provider
// it belongs to.
func (s *Server) callerView(ctx context.Context, u domain.User) (userResponse, error) {
	v := toUserResponse(u)
	if u.Role != domain.RoleProvider {
		return v, nil
	}
	p, err := s.Store.GetProviderByUser(ctx, u.ID)
	switch {
	case domain.IsKind(err, domain.KindNotFound):
		// A provider login no provider names yet: nothing to link.
	case err != nil:
		return userResponse{}, err
	default:
		v.ProviderID = p.ID
	}
	return v, nil
}

type registerRequest struct {
	Email    string  `json:"email"`
	Password string  `json:"password"`
	Name     string  `json:"name"`
	Phone    string  `json:"phone"`
	Session  *string `json:"session,omitempty"`
}

type registerResponse struct {
	User userResponse `json:"user"`
	auth.Tokens
}

// writeTokens answers with credentials, which no cache may keep (RFC 6749 §5.1).
func writeTokens(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, status, v)
}

func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	var req registerRequest
	if err := decode(w, r, &req, false); err != nil {
		writeError(w, r, err)
		return
	}
	// Checked before the account exists: a refused session must not leave one behind.
	var fe domain.FieldErrors
	cookie := cookieSession(req.Session, &fe)
	err := fe.Err("the session mode is not valid")
	if err == nil && cookie {
		err = requireJSONBody(r)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	// The service checks every field, missing ones included, and lists all that are bad.
	u, tokens, err := s.Accounts.Register(r.Context(), auth.RegisterInput{
		Email: req.Email, Password: req.Password, Name: req.Name, Phone: req.Phone,
		ClientAddr: clientKey(r, s.Config.Limits.TrustedProxies),
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	if cookie {
		tokens = s.handOverAsCookie(w, tokens)
	}
	writeTokens(w, http.StatusCreated, registerResponse{User: toUserResponse(u), Tokens: tokens})
}

type loginRequest struct {
	Email    string  `json:"email"`
	Password string  `json:"password"`
	Session  *string `json:"session,omitempty"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := decode(w, r, &req, false); err != nil {
		writeError(w, r, err)
		return
	}
	var fe domain.FieldErrors
	if req.Email == "" {
		fe.Add("email", "required")
	}
	if req.Password == "" {
		fe.Add("password", "required")
	}
	msg := "email and password are required"
	if len(fe) == 0 {
		msg = "the session mode is not valid"
	}
	cookie := cookieSession(req.Session, &fe)
	err := fe.Err(msg)
	if err == nil && cookie {
		err = requireJSONBody(r)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	tokens, err := s.Accounts.Login(r.Context(), auth.LoginInput{
		Email: req.Email, Password: req.Password, ClientAddr: clientKey(r, s.Config.Limits.TrustedProxies),
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	if cookie {
		tokens = s.handOverAsCookie(w, tokens)
	}
	writeTokens(w, http.StatusOK, tokens)
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// sessionModeCookie is the value of "session" that asks for the refresh token as a cookie.
const sessionModeCookie = "cookie"

// cookieSession reads the optional "session" field of a login or sign-up: absent means the
// refresh token in the body, as for any API client; "cookie" means a browser session.
func cookieSession(v *string, fe *domain.FieldErrors) bool {
	if v == nil {
		return false
	}
	if *v != sessionModeCookie {
		fe.Add("session", "must be %q, or left out", sessionModeCookie)
		return false
	}
	return true
}

// The browser session: the refresh token lives in a cookie the app's script cannot read, so an
// injected script cannot steal it, and it never sits in localStorage. HttpOnly hides it from
// script, Secure keeps it off plain HTTP (browsers count http://localhost as secure),
// SameSite=Strict keeps other sites from sending it, and the path keeps it off every request
// but the auth routes. The access token stays in the app's memory.
const (
	refreshCookie     = "booking_refresh"
	refreshCookiePath = "/v1/auth"
)

// handOverAsCookie sets the refresh token as the session cookie and returns tokens without
// it, so the body never carries it.
func (s *Server) handOverAsCookie(w http.ResponseWriter, tokens auth.Tokens) auth.Tokens {
	ttl := s.Config.JWT.RefreshTTL
	http.SetCookie(w, &http.Cookie{
		Name: refreshCookie, Value: tokens.RefreshToken, Path: refreshCookiePath,
		MaxAge: int(ttl / time.Second), Expires: s.now().Add(ttl),
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode,
	})
	tokens.RefreshToken = ""
	return tokens
}

// clearRefreshCookie tells the browser to drop the session cookie.
func clearRefreshCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: refreshCookie, Value: "", Path: refreshCookiePath, MaxAge: -1, Expires: time.Unix(0, 0),
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode,
	})
}

// requireJSONBody refuses a cookie session to a request that did not say its body is JSON.
// Such a request is one a page of another origin on the same site (another port: SameSite
// does not tell ports apart) can send with the browser's cookies and no CORS preflight; with
// the header it needs a preflight, which never allows credentials (withCORS).
func requireJSONBody(r *http.Request) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return domain.Errorf(domain.KindInvalid, "a cookie session needs the header Content-Type: application/json")
	}
	return nil
}

// refreshTokenOf reads the refresh token of refresh and logout: the body's refresh_token when
// given, as any API client sends it; otherwise the session cookie (fromCookie), "" when there
// is none.
func refreshTokenOf(w http.ResponseWriter, r *http.Request) (token string, fromCookie bool, err error) {
	var req refreshRequest
	if err := decode(w, r, &req, false); err != nil {
		return "", false, err
	}
	if req.RefreshToken != "" {
		return req.RefreshToken, false, nil
	}
	c, err := r.Cookie(refreshCookie)
	if err != nil {
		return "", true, nil
	}
	if err := requireJSONBody(r); err != nil {
		return "", false, err
	}
	return c.Value, true, nil
}

var errNoRefreshToken = domain.Errorf(domain.KindUnauthorized, "no refresh token: send refresh_token, or the session cookie of a login with \"session\": \"cookie\"")

func (s *Server) refresh(w http.ResponseWriter, r *http.Request) {
	token, fromCookie, err := refreshTokenOf(w, r)
	if err == nil && token == "" {
		err = errNoRefreshToken
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	tokens, err := s.Accounts.Refresh(r.Context(), token)
	if err != nil {
		// A refused cookie (spent, revoked, expired) never works again: the browser may drop it.
		if fromCookie && domain.IsKind(err, domain.KindUnauthorized) {
			clearRefreshCookie(w)
		}
		writeError(w, r, err)
		return
	}
	if fromCookie {
		tokens = s.handOverAsCookie(w, tokens)
	}
	writeTokens(w, http.StatusOK, tokens)
}

// logout answers 204 whether or not the token was known, and with no token at all in a
// browser session: the token works no more either way.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	token, fromCookie, err := refreshTokenOf(w, r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := s.Accounts.Logout(r.Context(), token); err != nil {
		writeError(w, r, err)
		return
	}
	if fromCookie {
		clearRefreshCookie(w)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	u, err := s.Accounts.Me(r.Context(), caller(r).UserID)
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
