package api

import (
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clinicbook/booking/domain"
)

func TestClientIP(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:1::/48")}
	cases := []struct {
		name    string
		remote  string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{name: "peer", remote: "203.0.113.9:5123", want: "203.0.113.9"},
		{name: "header from an untrusted peer is ignored", remote: "203.0.113.9:5123", xff: []string{"198.51.100.1"}, trusted: proxies, want: "203.0.113.9"},
		{name: "header ignored when no proxy is trusted", remote: "10.0.0.5:80", xff: []string{"198.51.100.1"}, want: "10.0.0.5"},
		{name: "trusted proxy", remote: "10.0.0.5:80", xff: []string{"198.51.100.1"}, trusted: proxies, want: "198.51.100.1"},
		{name: "spoofed left entries are skipped", remote: "10.0.0.5:80", xff: []string{"1.2.3.4, 198.51.100.1"}, trusted: proxies, want: "198.51.100.1"},
		{name: "chain of trusted proxies", remote: "10.0.0.5:80", xff: []string{"6.6.6.6, 198.51.100.1, 10.1.1.1", "10.2.2.2"}, trusted: proxies, want: "198.51.100.1"},
		{name: "forged trusted entry left of the client", remote: "10.0.0.5:80", xff: []string{"10.9.9.9, 198.51.100.1"}, trusted: proxies, want: "198.51.100.1"},
		{name: "all hops trusted", remote: "10.0.0.5:80", xff: []string{"10.1.1.1"}, trusted: proxies, want: "10.1.1.1"},
		{name: "no header", remote: "10.0.0.5:80", trusted: proxies, want: "10.0.0.5"},
		{name: "garbled entry", remote: "10.0.0.5:80", xff: []string{"198.51.100.1, nonsense"}, trusted: proxies, want: "10.0.0.5"},
		{name: "with port and IPv6", remote: "[2001:db8:1::7]:443", xff: []string{"[2001:db8:9::1]:5555"}, trusted: proxies, want: "2001:db8:9::1"},
		{name: "IPv4-mapped peer", remote: "[::ffff:10.0.0.5]:80", xff: []string{"198.51.100.1:7"}, trusted: proxies, want: "198.51.100.1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/v1/auth/login", nil)
			r.RemoteAddr = c.remote
			for _, v := range c.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			require.Equal(t, c.want, clientIP(r, c.trusted).String())
		})
	}
}

// IPv6 clients are counted by their /64: rotating addresses inside one's own block does not
// escape the per-address limits.
func TestClientKey(t *testing.T) {
	for remote, want := range map[string]string{
		"203.0.113.9:5123":              "203.0.113.9",
		"[2001:db8:5:6:1::7]:443":       "2001:db8:5:6::/64",
		"[2001:db8:5:6:ffff:1:2:3]:443": "2001:db8:5:6::/64",
		"[::ffff:198.51.100.1]:80":      "198.51.100.1",
	} {
		r := httptest.NewRequest("POST", "/v1/auth/login", nil)
		r.RemoteAddr = remote
		require.Equal(t, want, clientKey(r, nil), remote)
	}
}

// A 503 that says when to come back (password hashing at its budget) sends Retry-After, as a
// 429 does; one that does not, sends none.
func TestProblemRetryAfter(t *testing.T) {
	for _, c := range []struct {
		err  *domain.Error
		want string
	}{
		{&domain.Error{Kind: domain.KindUnavailable, RetryAfterSeconds: 1, Message: "busy"}, "1"},
		{&domain.Error{Kind: domain.KindRateLimited, RetryAfterSeconds: 300, Message: "locked"}, "300"},
		{&domain.Error{Kind: domain.KindUnavailable, Message: "down"}, ""},
	} {
		w := httptest.NewRecorder()
		writeProblem(w, httptest.NewRequest("POST", "/v1/auth/login", nil), c.err)
		require.Equal(t, c.want, w.Header().Get("Retry-After"), c.err.Message)
	}
}
