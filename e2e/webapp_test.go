package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clinicbook/booking/config"
	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/notify/notifytest"
	"github.com/clinicbook/booking/workflows"
)

// What the browser app relies on, against the real stack: a cookie session, the calendar
// download, and the staff's extra booking fields.

// cookieCall sends a JSON body with the session cookie (when not empty), as the browser does
// for the app: Go's cookie jar would not send a Secure cookie to the test's plain-HTTP server.
func (p *platform) cookieCall(path, cookie string, body any) (*http.Response, []byte) {
	p.t.Helper()
	b, err := json.Marshal(body)
	require.NoError(p.t, err)
	req, err := http.NewRequest(http.MethodPost, p.url+path, bytes.NewReader(b))
	require.NoError(p.t, err)
	req.Header.Set("Content-Type", "application/json")
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "booking_refresh", Value: cookie})
	}
	return roundTrip(p.t, req)
}

// sessionCookie is the booking_refresh cookie an answer sets.
func sessionCookie(t *testing.T, resp *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == "booking_refresh" {
			return c
		}
	}
	t.Fatalf("no booking_refresh cookie: %q", resp.Header.Values("Set-Cookie"))
	return nil
}

// withoutStamp drops DTSTAMP, the one line that says when an invite was made.
func withoutStamp(ics string) string {
	var keep []string
	for _, line := range strings.Split(ics, "\r\n") {
		if !strings.HasPrefix(line, "DTSTAMP:") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\r\n")
}

func TestBrowserSessionBooksAndTheInviteMatchesTheEmail(t *testing.T) {
	t.Parallel()
	p := newPlatform(t, func(c *config.Config) { c.Temporal.UIURL = "http://127.0.0.1:8233" })
	ctx := context.Background()
	const email, phone = "browser@example.com", "+15550301001"

	// Sign up as the app does: the refresh token comes as a cookie, never in the body.
	resp, body := p.cookieCall("/v1/auth/register", "", map[string]any{
		"email": email, "password": "correct-horse-1", "name": "Bea Browser", "phone": phone, "session": "cookie",
	})
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", body)
	var reg struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		AccessToken  string  `json:"access_token"`
		RefreshToken *string `json:"refresh_token"`
	}
	require.NoError(t, json.Unmarshal(body, &reg))
	require.Nil(t, reg.RefreshToken)
	cookie := sessionCookie(t, resp)
	require.True(t, cookie.HttpOnly && cookie.Secure && cookie.SameSite == http.SameSiteStrictMode, "%q", resp.Header.Values("Set-Cookie"))
	for _, ch := range []string{domain.ChannelEmail, domain.ChannelSMS} {
		require.NoError(t, p.st.MarkVerified(ctx, reg.User.ID, ch, time.Now()))
	}

	// The access token lapses; the app refreshes silently from the cookie and goes on.
	resp, body = p.cookieCall("/v1/auth/refresh", cookie.Value, map[string]any{})
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	var refreshed map[string]any
	require.NoError(t, json.Unmarshal(body, &refreshed))
	require.NotContains(t, refreshed, "refresh_token")
	spent, cookie := cookie, sessionCookie(t, resp)
	token := refreshed["access_token"].(string)

	id := p.bookConfirmed(token, tomorrowAt(9, 0))

	// The download is the confirmation email's invite, made again: the same event.
	var mail []notifytest.MailSummary
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var err error
		mail, err = listMail(p.mailAPI, email)
		require.NoError(c, err)
		assert.Len(c, mail, 1)
	}, 20*time.Second, 100*time.Millisecond)
	emailed := p.invite(mail[0].ID)
	resp, ics := p.call("GET", "/v1/bookings/"+id+"/calendar.ics", token, "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", ics)
	require.Equal(t, "text/calendar; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Equal(t, `attachment; filename="booking-`+id+`.ics"`, resp.Header.Get("Content-Disposition"))
	require.Contains(t, string(ics), "METHOD:REQUEST")
	require.Equal(t, withoutStamp(emailed), withoutStamp(string(ics)))

	// Staff see whose booking it is; the admin also where its workflow is.
	admin := p.adminLogin("admin@example.com")
	var page struct {
		Bookings []map[string]any `json:"bookings"`
	}
	require.Equal(t, http.StatusOK, p.do("GET", "/v1/bookings?provider_id="+p.provider.ID, admin, nil, &page))
	require.Len(t, page.Bookings, 1)
	wantURL := "http://127.0.0.1:8233/namespaces/default/workflows/" + workflows.BookingWorkflowID(id)
	require.Equal(t, "Bea Browser", page.Bookings[0]["patient_name"])
	require.Equal(t, wantURL, page.Bookings[0]["workflow_url"])
	// The link names a real workflow.
	desc, err := p.temporal.DescribeWorkflowExecution(ctx, workflows.BookingWorkflowID(id), "")
	require.NoError(t, err)
	require.Equal(t, workflows.WorkflowName, desc.WorkflowExecutionInfo.GetType().GetName())
	var mine map[string]any
	require.Equal(t, http.StatusOK, p.do("GET", "/v1/bookings/"+id, token, nil, &mine))
	require.NotContains(t, mine, "patient_name")
	require.NotContains(t, mine, "workflow_url")

	// A command's answer follows the same rules: an admin cancels and sees both.
	var cancelled map[string]any
	require.Equal(t, http.StatusOK, p.do("POST", "/v1/bookings/"+id+"/cancel", admin, map[string]any{"reason_code": "clinic_closed"}, &cancelled))
	require.Equal(t, "cancelled", cancelled["status"])
	require.Equal(t, "Bea Browser", cancelled["patient_name"])
	require.Equal(t, wantURL, cancelled["workflow_url"])

	// Now the download removes the event, as the cancellation email's invite does.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var err error
		mail, err = listMail(p.mailAPI, email)
		require.NoError(c, err)
		assert.Len(c, mail, 2)
	}, 20*time.Second, 100*time.Millisecond)
	emailed = p.invite(mail[0].ID)
	resp, ics = p.call("GET", "/v1/bookings/"+id+"/calendar.ics", token, "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", ics)
	require.Contains(t, string(ics), "METHOD:CANCEL")
	require.Equal(t, withoutStamp(emailed), withoutStamp(string(ics)))

	// The spent cookie replayed revokes the session; logging out clears the cookie.
	resp, body = p.cookieCall("/v1/auth/refresh", spent.Value, map[string]any{})
	requireProblem(t, resp, body, http.StatusUnauthorized)
	resp, body = p.cookieCall("/v1/auth/refresh", cookie.Value, map[string]any{})
	requireProblem(t, resp, body, http.StatusUnauthorized)
	resp, _ = p.cookieCall("/v1/auth/logout", cookie.Value, map[string]any{})
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	require.Empty(t, sessionCookie(t, resp).Value)
}

func TestTheAPIServesTheWebApp(t *testing.T) {
	t.Parallel()
	p := newPlatform(t)
	// Built or not, the app's paths are the app's, with its policy; the API's stay the API's.
	resp, body := p.call("GET", "/bookings/123", "", "", nil)
	require.Contains(t, []int{http.StatusOK, http.StatusServiceUnavailable}, resp.StatusCode, "%s", body)
	if resp.StatusCode == http.StatusOK {
		require.Contains(t, string(body), "<html")
	} else {
		require.Contains(t, string(body), "the web app is not built")
	}
	require.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'self'")
	resp, body = p.call("GET", "/robots.txt", "", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), "Disallow: /v1/")
	resp, body = p.call("GET", "/v1/nope", "", "", nil)
	requireProblem(t, resp, body, http.StatusNotFound)
}
