package twiliosandbox

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// listPage is Twilio's list envelope for Messages.json.
type listPage struct {
	Messages        []resource `json:"messages"`
	End             int        `json:"end"`
	FirstPageURI    string     `json:"first_page_uri"`
	NextPageURI     *string    `json:"next_page_uri"`
	Page            int        `json:"page"`
	PageSize        int        `json:"page_size"`
	PreviousPageURI *string    `json:"previous_page_uri"`
	Start           int        `json:"start"`
	URI             string     `json:"uri"`
}

// listAccountMessages serves GET Messages.json, newest first, filtered as Twilio filters:
// To, From, and DateSent / DateSent< / DateSent> (a date or an RFC 3339 instant). All
// matches fit one page of PageSize (at most 1000), as the platform only ever needs a few.
func (s *Server) listAccountMessages(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r) {
		return
	}
	q := r.URL.Query()
	after, okA := parseDateFilter(q.Get("DateSent>"))
	before, okB := parseDateFilter(q.Get("DateSent<"))
	on, okO := parseDateFilter(q.Get("DateSent"))
	if !okA || !okB || !okO {
		writeTwilioError(w, http.StatusBadRequest, 20001, "Invalid DateSent filter")
		return
	}
	size := 50
	if v := q.Get("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeTwilioError(w, http.StatusBadRequest, 20001, "Invalid PageSize")
			return
		}
		size = n
	}
	page := listPage{Messages: []resource{}, PageSize: size, URI: r.URL.RequestURI(), FirstPageURI: r.URL.RequestURI()}
	for _, m := range newestFirst(s.Messages()) {
		sent := m.DateSent
		if sent.IsZero() {
			sent = m.DateCreated
		}
		switch {
		case q.Get("To") != "" && m.To != q.Get("To"),
			q.Get("From") != "" && m.From != q.Get("From"),
			!after.IsZero() && sent.Before(after),
			!before.IsZero() && !sent.Before(before),
			!on.IsZero() && !sameDay(sent, on):
			continue
		}
		if len(page.Messages) == size {
			break
		}
		page.Messages = append(page.Messages, resourceOf(&m))
	}
	page.End = max(len(page.Messages)-1, 0)
	writeJSON(w, http.StatusOK, page)
}

func parseDateFilter(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, true
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, true
	}
	t, err := time.Parse(time.DateOnly, v)
	return t, err == nil
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.UTC().Date()
	by, bm, bd := b.UTC().Date()
	return ay == by && am == bm && ad == bd
}
