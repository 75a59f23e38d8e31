package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/clinicbook/booking/app"
	"github.com/clinicbook/booking/codec"
	"github.com/clinicbook/booking/config"
	"github.com/clinicbook/booking/domain"
	"github.com/clinicbook/booking/store"
	"github.com/clinicbook/booking/worker"
	"github.com/clinicbook/booking/workflows"
)

// TestCodecKeepsPatientDataOutOfTemporal books with a note and cancels with a reason, then
// reads the history as Temporal stores it: neither is there, while the API still shows both
// and the codec server decodes them for an admin, and only for an admin.
func TestCodecKeepsPatientDataOutOfTemporal(t *testing.T) {
	t.Parallel()
	const note, reason = "persistent cough 7f3a", "moving to Hamburg 7f3a"
	p := newPlatform(t)
	ctx := context.Background()
	_, token := p.patient("codec@example.com", "+15550008888")
	admin := p.adminLogin("codec-admin@example.com")

	var b bookingBody
	require.Equal(t, http.StatusCreated, p.do("POST", "/v1/bookings", token, map[string]any{
		"provider_id": p.provider.ID, "service_id": p.service.ID, "start": tomorrowAt(9, 0).Format(time.RFC3339), "notes": note}, &b))
	require.Equal(t, http.StatusOK, p.do("POST", "/v1/bookings/"+b.ID+"/confirm", token, nil, nil))
	require.Equal(t, http.StatusOK, p.do("POST", "/v1/bookings/"+b.ID+"/cancel", token, map[string]any{"reason": reason}, nil))
	p.waitClosed(ctx, b.ID)

	// The API, reading PostgreSQL, still has both.
	var got domain.Booking
	require.Equal(t, http.StatusOK, p.do("GET", "/v1/bookings/"+b.ID, token, nil, &got))
	require.Equal(t, note, got.Notes)
	require.Equal(t, reason, got.CancelReason)

	// Temporal has neither: not in a payload, not anywhere in the history.
	h := p.rawHistory(ctx, b.ID)
	bin, err := proto.Marshal(h)
	require.NoError(t, err)
	text, err := protojson.Marshal(h)
	require.NoError(t, err)
	for _, secret := range []string{note, reason, "7f3a"} {
		require.False(t, bytes.Contains(bin, []byte(secret)), "%q is in the stored history", secret)
		require.NotContains(t, string(text), secret)
	}
	var input, cancelArgs *commonpb.Payload
	for _, e := range h.Events {
		if a := e.GetWorkflowExecutionStartedEventAttributes(); a != nil {
			input = a.GetInput().GetPayloads()[0]
		}
		if a := e.GetWorkflowExecutionUpdateAcceptedEventAttributes(); a != nil && a.GetAcceptedRequest().GetInput().GetName() == workflows.UpdateCancel {
			cancelArgs = a.GetAcceptedRequest().GetInput().GetArgs().GetPayloads()[0]
		}
	}
	require.NotNil(t, input)
	require.NotNil(t, cancelArgs)
	for _, pl := range []*commonpb.Payload{input, cancelArgs} {
		require.Equal(t, codec.EncodingEncrypted, string(pl.Metadata[converter.MetadataEncoding]))
		require.Equal(t, "test", string(pl.Metadata[codec.MetadataKeyID]))
	}

	// The codec server decodes them for an admin...
	decoded := p.codecDecode(admin, http.StatusOK, input, cancelArgs)
	require.Len(t, decoded, 2)
	var in workflows.Input
	require.NoError(t, json.Unmarshal(decoded[0].Data, &in))
	require.Equal(t, note, in.Notes)
	require.Equal(t, "json/plain", string(decoded[0].Metadata[converter.MetadataEncoding]))
	var req workflows.CancelRequest
	require.NoError(t, json.Unmarshal(decoded[1].Data, &req))
	require.Equal(t, reason, req.Reason)

	// ...and for nobody else.
	p.codecDecode(token, http.StatusForbidden, input)
	p.codecDecode("", http.StatusUnauthorized, input)
	_, provider := p.providerLogin("codec-doctor@example.com")
	p.codecDecode(provider, http.StatusForbidden, input)
}

// TestCodecSessionCookieDecodes is the Web UI's way in: the admin signs in, trades the access
// token for the codec session cookie, and the browser's cookie alone (no Authorization header,
// which the UI cannot send) then decodes. The session ends with the account's admin role.
func TestCodecSessionCookieDecodes(t *testing.T) {
	t.Parallel()
	const note = "chest pain c00c"
	p := newPlatform(t)
	ctx := context.Background()
	_, token := p.patient("cookie@example.com", "+15550008877")
	admin := p.adminLogin("cookie-admin@example.com")
	var b bookingBody
	require.Equal(t, http.StatusCreated, p.do("POST", "/v1/bookings", token, map[string]any{
		"provider_id": p.provider.ID, "service_id": p.service.ID, "start": tomorrowAt(13, 0).Format(time.RFC3339), "notes": note}, &b))
	var input *commonpb.Payload
	for _, e := range p.rawHistory(ctx, b.ID).Events {
		if a := e.GetWorkflowExecutionStartedEventAttributes(); a != nil {
			input = a.GetInput().GetPayloads()[0]
		}
	}
	require.NotNil(t, input)
	require.NotContains(t, string(input.Data), note)

	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	browser := &http.Client{Jar: jar}
	decode := func() (int, []byte) {
		body, err := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{input}})
		require.NoError(t, err)
		req, err := http.NewRequest(http.MethodPost, p.url+"/codec/decode", bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Namespace", "default")
		resp, err := browser.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var buf bytes.Buffer
		_, err = buf.ReadFrom(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, buf.Bytes()
	}
	code, _ := decode()
	require.Equal(t, http.StatusUnauthorized, code, "no session yet")

	// A patient's token gets no session.
	req, err := http.NewRequest(http.MethodPost, p.url+"/codec/session", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := browser.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)

	req, err = http.NewRequest(http.MethodPost, p.url+"/codec/session", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err = browser.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	code, body := decode()
	require.Equal(t, http.StatusOK, code, string(body))
	var out commonpb.Payloads
	require.NoError(t, protojson.Unmarshal(body, &out))
	var in workflows.Input
	require.NoError(t, json.Unmarshal(out.Payloads[0].Data, &in))
	require.Equal(t, note, in.Notes)

	// An admin no longer admin loses the session at once, not when the cookie expires.
	var adminID string
	require.NoError(t, p.st.Pool().QueryRow(ctx, `UPDATE users SET role = 'patient' WHERE email = 'cookie-admin@example.com' RETURNING id`).Scan(&adminID))
	code, body = decode()
	require.Equal(t, http.StatusForbidden, code, string(body))
	_, err = p.st.Pool().Exec(ctx, `UPDATE users SET role = 'admin' WHERE id = $1`, adminID)
	require.NoError(t, err)
	code, _ = decode()
	require.Equal(t, http.StatusOK, code)

	// Signing out clears it.
	req, err = http.NewRequest(http.MethodDelete, p.url+"/codec/session", nil)
	require.NoError(t, err)
	resp, err = browser.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	code, _ = decode()
	require.Equal(t, http.StatusUnauthorized, code)
}

// TestCodecMemoAndSearchAttributesHoldNoPersonalData: search attributes are never encrypted
// and the memo is what the Web UI's list shows, so both carry ids and times only.
func TestCodecMemoAndSearchAttributesHoldNoPersonalData(t *testing.T) {
	t.Parallel()
	const email, phone, note = "memo-check@example.com", "+15550008899", "sore throat 91bc"
	p := newPlatform(t)
	ctx := context.Background()
	patientID, token := p.patient(email, phone)
	var b bookingBody
	require.Equal(t, http.StatusCreated, p.do("POST", "/v1/bookings", token, map[string]any{
		"provider_id": p.provider.ID, "service_id": p.service.ID, "start": tomorrowAt(11, 0).Format(time.RFC3339), "notes": note}, &b))
	require.Equal(t, http.StatusOK, p.do("POST", "/v1/bookings/"+b.ID+"/confirm", token, nil, nil))

	var memo map[string]string
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		d, err := p.temporal.DescribeWorkflowExecution(ctx, workflows.BookingWorkflowID(b.ID), "")
		require.NoError(c, err)
		dc := codec.DataConverter(p.codec)
		memo = map[string]string{}
		for k, v := range d.WorkflowExecutionInfo.GetMemo().GetFields() {
			var s string
			require.NoError(c, dc.FromPayload(v, &s), k)
			memo[k] = s
		}
		assert.Equal(c, "confirmed", memo["status"])
		sa := map[string]string{}
		for k, v := range d.WorkflowExecutionInfo.GetSearchAttributes().GetIndexedFields() {
			sa[k] = string(v.GetData())
		}
		assert.Equal(c, `"confirmed"`, sa["BookingStatus"])
		for _, v := range append(values(memo), values(sa)...) {
			for _, personal := range []string{email, phone, "Pat ", note} {
				assert.NotContains(c, v, personal)
			}
		}
	}, 20*time.Second, 100*time.Millisecond)
	require.Equal(t, map[string]string{"provider_id": p.provider.ID, "service_id": p.service.ID, "patient_id": patientID,
		"start": b.Start.UTC().Format(time.RFC3339), "end": b.End.UTC().Format(time.RFC3339), "status": "confirmed"}, memo)
}

// TestCodecKeyRotation: a booking started under key A is confirmed; then the configuration
// becomes "B,A" (a new client and worker, the old worker stopped); the booking is reminded and
// cancelled under it and completes, what is written from then on carrying key B.
func TestCodecKeyRotation(t *testing.T) {
	t.Parallel()
	keyA, keyB := randomCodecKey(t, "A"), randomCodecKey(t, "B")
	p := newPlatform(t, func(c *config.Config) { c.Codec.Keys = []config.CodecKey{keyA} })
	ctx := context.Background()
	patientID, token := p.patient("rotation@example.com", "+15550008877")

	// Due in 70 seconds with a reminder 40 seconds before: the reminder fires after the
	// rotation, on the new worker, with half a minute for the confirmation to land first even
	// on a busy machine (a reminder due before it is skipped). The slot grid offers nothing that soon, so the held booking
	// is written directly and its workflow started as the reconciler would, under key A.
	pol := p.policy(time.Minute)
	pol.ReminderOffsets = []time.Duration{40 * time.Second}
	start := time.Now().Add(70 * time.Second).Truncate(time.Second)
	id := uuid.NewString()
	exp := time.Now().Add(time.Minute)
	_, err := p.st.CreateHold(ctx, domain.Booking{ID: id, ProviderID: p.provider.ID, ServiceID: p.service.ID, PatientID: patientID,
		Start: start, End: start.Add(30 * time.Minute), HoldExpiresAt: &exp, Notes: "rotation 5d2e"}, 0, store.EventInput{})
	require.NoError(t, err)
	p.resume(ctx, id, pol)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, http.StatusOK, p.do("POST", "/v1/bookings/"+id+"/confirm", token, nil, nil))
	}, 10*time.Second, 100*time.Millisecond)

	// Rotate: every key id stays readable, B encrypts.
	rotated := newCodec(t, []config.CodecKey{keyB, keyA})
	c, err := client.Dial(client.Options{HostPort: devServer.Address(), Namespace: "default", Logger: quiet{},
		DataConverter: codec.DataConverter(rotated), FailureConverter: codec.FailureConverter(rotated)})
	require.NoError(t, err)
	defer c.Close()
	w := worker.New(c, p.cfg.Temporal.TaskQueue, app.NewActivities(p.st, p.cfg))
	require.NoError(t, w.Start())
	defer w.Stop()
	p.worker.Stop()

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var got bookingBody
		require.Equal(c, http.StatusOK, p.do("GET", "/v1/bookings/"+id, token, nil, &got))
		sent := false
		for _, e := range got.Events {
			sent = sent || (e.Type == "notification" && e.Detail["kind"] == "reminder" && (e.Detail["status"] == "sent" || e.Detail["status"] == "delivered"))
		}
		assert.True(c, sent, "no reminder sent yet: %+v", got.Events)
	}, time.Until(start), 250*time.Millisecond)

	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: workflows.BookingWorkflowID(id),
		UpdateName: workflows.UpdateCancel, Args: []any{workflows.CancelRequest{Reason: "rotated 5d2e", By: patientID}},
		WaitForStage: client.WorkflowUpdateStageCompleted})
	require.NoError(t, err)
	require.NoError(t, h.Get(ctx, nil))
	p.waitClosedBy(ctx, c, id)
	b, err := p.st.GetBooking(ctx, id)
	require.NoError(t, err)
	require.Equal(t, domain.StatusCancelled, b.Status)

	// A wrote the start, B the cancellation and what followed it; nothing is in the clear.
	keyOf := func(pl *commonpb.Payload) string { return string(pl.GetMetadata()[codec.MetadataKeyID]) }
	raw := p.rawHistory(ctx, id)
	var started, cancelled string
	after := map[string]bool{}
	seenCancel := false
	for _, e := range raw.Events {
		if a := e.GetWorkflowExecutionStartedEventAttributes(); a != nil {
			started = keyOf(a.GetInput().GetPayloads()[0])
		}
		if a := e.GetWorkflowExecutionUpdateAcceptedEventAttributes(); a != nil && a.GetAcceptedRequest().GetInput().GetName() == workflows.UpdateCancel {
			cancelled = keyOf(a.GetAcceptedRequest().GetInput().GetArgs().GetPayloads()[0])
			seenCancel = true
			continue
		}
		if seenCancel && e.GetActivityTaskScheduledEventAttributes() != nil {
			for _, pl := range e.GetActivityTaskScheduledEventAttributes().GetInput().GetPayloads() {
				after[keyOf(pl)] = true
			}
		}
	}
	require.Equal(t, "A", started)
	require.Equal(t, "B", cancelled)
	require.Equal(t, map[string]bool{"B": true}, after, "payloads written after the rotation")
	bin, err := proto.Marshal(raw)
	require.NoError(t, err)
	require.False(t, bytes.Contains(bin, []byte("5d2e")))
	// Every stored payload but the search attributes is encrypted.
	for _, pl := range payloadsIn(raw) {
		if enc := string(pl.GetMetadata()[converter.MetadataEncoding]); enc != codec.EncodingEncrypted {
			require.Contains(t, pl.GetMetadata(), "type", "an unencrypted payload that is not a search attribute: %s", pl)
		}
	}
}

func randomCodecKey(t *testing.T, id string) config.CodecKey {
	t.Helper()
	k := config.CodecKey{ID: id, Secret: make([]byte, codec.KeySize)}
	_, err := rand.Read(k.Secret)
	require.NoError(t, err)
	return k
}

// rawHistory is the booking's history as the Temporal server stores it, read by a client
// without the codec.
func (p *platform) rawHistory(ctx context.Context, bookingID string) *historypb.History {
	p.t.Helper()
	c, err := devServer.RawClient()
	require.NoError(p.t, err)
	defer c.Close()
	iter := c.GetWorkflowHistory(ctx, workflows.BookingWorkflowID(bookingID), "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for iter.HasNext() {
		e, err := iter.Next()
		require.NoError(p.t, err)
		h.Events = append(h.Events, e)
	}
	require.NotEmpty(p.t, h.Events)
	return h
}

// waitClosed waits until the booking's workflow has completed.
func (p *platform) waitClosed(ctx context.Context, bookingID string) {
	p.waitClosedBy(ctx, p.temporal, bookingID)
}

func (p *platform) waitClosedBy(ctx context.Context, c client.Client, bookingID string) {
	p.t.Helper()
	require.EventuallyWithT(p.t, func(ct *assert.CollectT) {
		d, err := c.DescribeWorkflowExecution(ctx, workflows.BookingWorkflowID(bookingID), "")
		require.NoError(ct, err)
		assert.Equal(ct, enums.WORKFLOW_EXECUTION_STATUS_COMPLETED, d.WorkflowExecutionInfo.Status)
	}, 30*time.Second, 100*time.Millisecond)
}

// codecDecode posts payloads to /codec/decode as token and returns what came back.
func (p *platform) codecDecode(token string, want int, payloads ...*commonpb.Payload) []*commonpb.Payload {
	p.t.Helper()
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: payloads})
	require.NoError(p.t, err)
	req, err := http.NewRequest(http.MethodPost, p.url+"/codec/decode", bytes.NewReader(body))
	require.NoError(p.t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Namespace", "default")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(p.t, err)
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	require.NoError(p.t, err)
	require.Equal(p.t, want, resp.StatusCode, buf.String())
	if want != http.StatusOK {
		require.Equal(p.t, "application/problem+json", resp.Header.Get("Content-Type"))
		return nil
	}
	var out commonpb.Payloads
	require.NoError(p.t, protojson.Unmarshal(buf.Bytes(), &out))
	return out.Payloads
}

// payloadsIn is every Payload message anywhere in m.
func payloadsIn(m proto.Message) []*commonpb.Payload {
	var out []*commonpb.Payload
	var walk func(protoreflect.Message)
	walk = func(m protoreflect.Message) {
		if pl, ok := m.Interface().(*commonpb.Payload); ok {
			out = append(out, pl)
			return
		}
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.IsList() && fd.Message() != nil:
				for i := 0; i < v.List().Len(); i++ {
					walk(v.List().Get(i).Message())
				}
			case fd.IsMap() && fd.MapValue().Message() != nil:
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					walk(mv.Message())
					return true
				})
			case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
				walk(v.Message())
			}
			return true
		})
	}
	walk(m.ProtoReflect())
	return out
}

func values(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
