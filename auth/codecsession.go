package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/clinicbook/booking/domain"
)

// CodecSessionTTL is how long a codec session lasts: a working day at the Temporal Web UI,
// after which the admin signs in again.
const CodecSessionTTL = 8 * time.Hour

// codecAudienceSuffix makes a codec session's audience differ from an access token's, so
// neither is accepted in place of the other: the session cookie opens the codec server only,
// and an access token is not a cookie.
const codecAudienceSuffix = "#codec"

// IssueCodecSession signs the credential the codec server keeps in a cookie for the Temporal
// Web UI, which cannot send the admin's access token. It is a JWT signed with the access
// tokens' key but for its own audience, with its own, longer expiry. Only admins get one.
func (s *Service) IssueCodecSession(p domain.Principal) (string, time.Time, error) {
	if p.Role != domain.RoleAdmin {
		return "", time.Time{}, domain.Errorf(domain.KindForbidden, "only admins may decode Temporal payloads")
	}
	exp := s.now().Add(CodecSessionTTL).Truncate(time.Second)
	signed, err := s.sign(p, s.cfg.Audience+codecAudienceSuffix, exp)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("issue codec session: %w", err)
	}
	return signed, exp, nil
}

// AuthenticateCodecSession checks a codec session and returns who it was issued to: the
// signature (any listed key), the issuer, the codec audience and the expiry, as for access
// tokens. A session lasts hours, so the account is read again as well (when the service has a
// database; the API's unit tests run without one): a deleted account or one no longer admin
// loses its session at once.
func (s *Service) AuthenticateCodecSession(ctx context.Context, raw string) (domain.Principal, error) {
	claims, err := s.parse(raw, s.cfg.Audience+codecAudienceSuffix)
	if errors.Is(err, jwt.ErrTokenExpired) {
		return domain.Principal{}, domain.Errorf(domain.KindUnauthorized, "the codec session has expired; sign in again at /codec")
	}
	if err != nil {
		return domain.Principal{}, domain.Errorf(domain.KindUnauthorized, "the codec session is not valid; sign in again at /codec")
	}
	p := domain.Principal{UserID: claims.Subject, Role: claims.Role}
	if s.st != nil {
		u, err := s.Me(ctx, p.UserID)
		if err != nil {
			return domain.Principal{}, err
		}
		p.Role = u.Role
	}
	return p, nil
}
