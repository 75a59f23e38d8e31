package api

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/clinicbook/booking/domain"
)

// maxCodecBody bounds what the Web UI may send in one call: it batches the payloads of a page
// of history, each up to Temporal's own 2 MB limit.
const maxCodecBody = 8 << 20

// codecPrefix is where the codec server lives: beside /v1, since the Web UI and the CLI call
// {endpoint}/encode and {endpoint}/decode and speak Temporal's protocol, not this API's.
const codecPrefix = "/codec/"

// codecEncode and codecDecode are the codec server (Temporal's remote codec protocol: a
// Payloads message as protobuf JSON in and out). Decrypted payloads hold what patients wrote,
// so only admins get them; encode is held to the same rule since it is only useful to someone
// who can also read.
func (s *Server) codecEncode(w http.ResponseWriter, r *http.Request) { s.serveCodec(w, r, true) }

func (s *Server) codecDecode(w http.ResponseWriter, r *http.Request) { s.serveCodec(w, r, false) }

func (s *Server) serveCodec(w http.ResponseWriter, r *http.Request, encode bool) {
	// Checked on every call, whichever credential came: requireCodecAuth only says who asks.
	if err := requireRole(r, domain.RoleAdmin); err != nil {
		writeError(w, r, err)
		return
	}
	if s.Codec == nil {
		writeError(w, r, domain.Errorf(domain.KindUnavailable, "this API runs without a payload codec"))
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			writeError(w, r, domain.Errorf(domain.KindInvalid, "the body must be JSON (Content-Type: application/json)"))
			return
		}
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCodecBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, r, domain.Errorf(domain.KindInvalid, "the body is larger than %d bytes", maxCodecBody))
			return
		}
		writeError(w, r, domain.Errorf(domain.KindInvalid, "the body could not be read"))
		return
	}
	var in commonpb.Payloads
	if err := protojson.Unmarshal(raw, &in); err != nil {
		writeError(w, r, domain.Errorf(domain.KindInvalid, `the body must be {"payloads": [...]} as protobuf JSON`))
		return
	}
	var out []*commonpb.Payload
	if encode {
		out, err = s.Codec.Encode(in.Payloads)
	} else {
		out, err = s.Codec.Decode(in.Payloads)
	}
	if err != nil {
		// The codec's errors name a key id at most, never key material or plaintext.
		writeError(w, r, domain.Errorf(domain.KindInvalid, "%v", err))
		return
	}
	b, err := protojson.Marshal(&commonpb.Payloads{Payloads: out})
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// withCodecCORS lets the Temporal Web UI's pages call the codec server. Unlike the REST API,
// which any origin may call, decrypted patient data goes only to the configured UI origins;
// the UI sends X-Namespace (and Authorization when it forwards a token), so the preflight must
// allow them, and a UI set to include credentials needs Allow-Credentials.
func (s *Server) withCodecCORS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, codecPrefix) {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		if origin != "" && slices.Contains(s.Config.Codec.UIOrigins, origin) {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Expose-Headers", "X-Request-Id")
			if preflight {
				h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
				h.Set("Access-Control-Allow-Headers", "Authorization, Authorization-Extras, Content-Type, X-Namespace, X-Request-Id")
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		} else if preflight {
			writeError(w, r, domain.Errorf(domain.KindForbidden, "origin %q may not call the codec server (TEMPORAL_UI_ORIGIN)", origin))
			return
		}
		next.ServeHTTP(w, r)
	})
}
