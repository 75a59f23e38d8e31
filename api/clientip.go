package api

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientKey is the client address as the per-address limits count it. An IPv6 client is
// counted by its /64, the block one subscriber is given: anyone can rotate addresses inside
// it, so counting single addresses would limit nobody.
func clientKey(r *http.Request, trusted []netip.Prefix) string {
	a := clientIP(r, trusted)
	if a.Is6() && !a.Is4In6() {
		return netip.PrefixFrom(a, 64).Masked().String()
	}
	return a.String()
}

// clientIP is the address a request comes from, as far as it can be known: the TCP peer,
// unless the peer is one of our trusted proxies, in which case X-Forwarded-For is read from
// the right. Each proxy appends the address it was reached from, so the right-most entry that
// is not itself a trusted proxy is the first one we did not put there ourselves; anything to
// its left is whatever the client chose to send, and is never believed.
//
// When every hop is a trusted proxy (or the header is absent or garbled), the left-most
// trusted hop stands for the client: it is the closest we can vouch for.
func clientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer := remoteAddr(r)
	if !peer.IsValid() || !isTrusted(peer, trusted) {
		return peer
	}
	client := peer
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, err := parseHop(parts[j])
			if err != nil {
				// A garbled entry breaks the chain: nothing to its left can be vouched for.
				return client
			}
			if !isTrusted(a, trusted) {
				return a
			}
			client = a
		}
	}
	return client
}

// remoteAddr is the TCP peer's address, the zero Addr when RemoteAddr is not one (which the
// net/http server never leaves it, but tests and other front ends might).
func remoteAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap().WithZone("")
}

// parseHop reads one X-Forwarded-For entry: an address, possibly with a port or in brackets.
func parseHop(s string) (netip.Addr, error) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), nil
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil {
		return netip.Addr{}, err
	}
	return a.Unmap().WithZone(""), nil
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
