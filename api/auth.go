package api

import (
	"net/http"

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
}

func toUserResponse(u domain.User) userResponse {
	return userResponse{ID: u.ID, Email: u.Email, Name: u.Name, Phone: u.Phone, Role: u.Role,
		EmailVerified: u.EmailVerified, PhoneVerified: u.PhoneVerified}
}

type registerRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
	Phone    string `json:"phone"`
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
	// The service checks every field, missing ones included, and lists all that are bad.
	u, tokens, err := s.Accounts.Register(r.Context(), auth.RegisterInput{
		Email: req.Email, Password: req.Password, Name: req.Name, Phone: req.Phone,
		ClientAddr: clientKey(r, s.Config.Limits.TrustedProxies),
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeTokens(w, http.StatusCreated, registerResponse{User: toUserResponse(u), Tokens: tokens})
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
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
	if err := fe.Err("email and password are required"); err != nil {
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
	writeTokens(w, http.StatusOK, tokens)
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// decodeRefresh reads the {refresh_token} body shared by refresh and logout.
func decodeRefresh(w http.ResponseWriter, r *http.Request) (string, error) {
	var req refreshRequest
	if err := decode(w, r, &req, false); err != nil {
		return "", err
	}
	if req.RefreshToken == "" {
		return "", domain.Invalid("refresh_token is required", domain.FieldError{Field: "refresh_token", Message: "required"})
	}
	return req.RefreshToken, nil
}

func (s *Server) refresh(w http.ResponseWriter, r *http.Request) {
	token, err := decodeRefresh(w, r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	tokens, err := s.Accounts.Refresh(r.Context(), token)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeTokens(w, http.StatusOK, tokens)
}

// logout answers 204 whether or not the token was known: the token works no more either way.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	token, err := decodeRefresh(w, r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := s.Accounts.Logout(r.Context(), token); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	u, err := s.Accounts.Me(r.Context(), caller(r).UserID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toUserResponse(u))
}
