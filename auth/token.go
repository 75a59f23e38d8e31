package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/clinicbook/booking/domain"
)

// leeway absorbs clock skew between the machines that issue and check tokens.
const leeway = 30 * time.Second

// Tokens is what a successful login, registration or refresh hands the client.
type Tokens struct {
	AccessToken string `json:"access_token"`
	// RefreshToken is left out of the JSON when the API hands it to a browser as a cookie.
	RefreshToken string `json:"refresh_token,omitempty"`
	TokenType    string `json:"token_type"`
	// ExpiresIn is the access token's lifetime in seconds.
	ExpiresIn int `json:"expires_in"`
}

// accessClaims are the access token's claims: the registered ones plus the caller's role, so
// that a request needs no database read to know who is asking.
type accessClaims struct {
	Role domain.Role `json:"role"`
	jwt.RegisteredClaims
}

// Validate runs after the registered claims are checked; a token without a subject or with a
// role we do not know is not ours, whoever signed it.
func (c accessClaims) Validate() error {
	if c.Subject == "" {
		return errors.New("token has no subject")
	}
	if !validRole(c.Role) {
		return fmt.Errorf("token has an unknown role %q", c.Role)
	}
	return nil
}

var _ jwt.ClaimsValidator = accessClaims{}

func validRole(r domain.Role) bool {
	return r == domain.RolePatient || r == domain.RoleProvider || r == domain.RoleAdmin
}

// issueAccessToken signs an access token for p with the current signing key.
func (s *Service) issueAccessToken(p domain.Principal) (string, error) {
	signed, err := s.sign(p, s.cfg.Audience, s.now().Add(s.cfg.AccessTTL))
	if err != nil {
		return "", fmt.Errorf("issue access token: %w", err)
	}
	return signed, nil
}

// sign signs a token for p, for audience, valid until exp, with the current signing key.
func (s *Service) sign(p domain.Principal, audience string, exp time.Time) (string, error) {
	key := s.cfg.SigningKey
	if key.ID == "" || len(key.Key) != ed25519.PrivateKeySize {
		return "", errors.New("no Ed25519 signing key configured")
	}
	now := s.now()
	claims := accessClaims{
		Role: p.Role,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.cfg.Issuer,
			Audience:  jwt.ClaimStrings{audience},
			Subject:   p.UserID,
			ExpiresAt: jwt.NewNumericDate(exp),
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ID:        uuid.NewString(),
		},
	}
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	t.Header["kid"] = key.ID
	return t.SignedString(key.Key)
}

// parse checks a token's signature (any listed key), issuer, audience and expiry, and returns
// its claims.
func (s *Service) parse(raw, audience string) (accessClaims, error) {
	var claims accessClaims
	_, err := jwt.ParseWithClaims(raw, &claims, s.verifyKey,
		// Only EdDSA: this is what refuses "none" and HS256 tokens "signed" with our public key.
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithIssuer(s.cfg.Issuer),
		jwt.WithAudience(audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(s.now),
	)
	return claims, err
}

// Authenticate checks an access token and returns who it was issued to. Any failure is a
// KindUnauthorized error whose message says no more than expired or not valid: the reason a
// forged token failed is of use only to the forger.
func (s *Service) Authenticate(raw string) (domain.Principal, error) {
	claims, err := s.parse(raw, s.cfg.Audience)
	if errors.Is(err, jwt.ErrTokenExpired) {
		return domain.Principal{}, domain.Errorf(domain.KindUnauthorized, "the access token has expired")
	}
	if err != nil {
		return domain.Principal{}, domain.Errorf(domain.KindUnauthorized, "the access token is not valid")
	}
	return domain.Principal{UserID: claims.Subject, Role: claims.Role}, nil
}

// verifyKey picks the public key by the token's kid, so tokens signed before a key rotation
// stay valid while their key is still listed. A token without a known kid is refused.
func (s *Service) verifyKey(t *jwt.Token) (any, error) {
	if _, ok := t.Method.(*jwt.SigningMethodEd25519); !ok {
		return nil, fmt.Errorf("unexpected signing method %v", t.Header["alg"])
	}
	kid, _ := t.Header["kid"].(string)
	key, ok := s.cfg.VerifyKeys[kid]
	if !ok || len(key) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("unknown key id %q", kid)
	}
	return key, nil
}

// newRefreshToken returns a fresh refresh token and the hash it is stored under. The token is
// 256 random bits, so a plain SHA-256 (no salt, no stretching) is enough to make a stolen
// table useless.
func newRefreshToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("new refresh token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashRefreshToken(token), nil
}

func hashRefreshToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
