package codec

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

func key(t *testing.T, id string) Key {
	t.Helper()
	k := Key{ID: id, Secret: make([]byte, KeySize)}
	_, err := rand.Read(k.Secret)
	require.NoError(t, err)
	return k
}

func newCodec(t *testing.T, keys ...Key) *Codec {
	t.Helper()
	c, err := New(keys...)
	require.NoError(t, err)
	return c
}

func jsonPayload(t *testing.T, v any) *commonpb.Payload {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(v)
	require.NoError(t, err)
	return p
}

func TestRoundTrip(t *testing.T) {
	c := newCodec(t, key(t, "k1"))
	in := []*commonpb.Payload{jsonPayload(t, map[string]string{"notes": "persistent cough"}), jsonPayload(t, nil)}
	enc, err := c.Encode(in)
	require.NoError(t, err)
	require.Len(t, enc, 2)
	for _, p := range enc {
		require.Equal(t, EncodingEncrypted, string(p.Metadata[converter.MetadataEncoding]))
		require.Equal(t, "k1", string(p.Metadata[MetadataKeyID]))
		require.NotContains(t, string(p.Data), "persistent cough")
		require.NotContains(t, string(p.Data), "json/plain")
	}
	dec, err := c.Decode(enc)
	require.NoError(t, err)
	for i := range in {
		require.True(t, proto.Equal(in[i], dec[i]))
	}
}

func TestDataConverterRoundTrip(t *testing.T) {
	dc := DataConverter(newCodec(t, key(t, "k1")))
	p, err := dc.ToPayload(struct{ Reason string }{"moving away"})
	require.NoError(t, err)
	require.NotContains(t, string(p.Data), "moving away")
	var out struct{ Reason string }
	require.NoError(t, dc.FromPayload(p, &out))
	require.Equal(t, "moving away", out.Reason)
}

func TestTamperingFails(t *testing.T) {
	k1 := key(t, "k1")
	c := newCodec(t, k1)
	enc, err := c.Encode([]*commonpb.Payload{jsonPayload(t, "notes")})
	require.NoError(t, err)

	flipped := proto.Clone(enc[0]).(*commonpb.Payload)
	flipped.Data[len(flipped.Data)-1] ^= 1
	_, err = c.Decode([]*commonpb.Payload{flipped})
	require.ErrorContains(t, err, "does not decrypt")

	short := proto.Clone(enc[0]).(*commonpb.Payload)
	short.Data = short.Data[:10]
	_, err = c.Decode([]*commonpb.Payload{short})
	require.ErrorContains(t, err, "too short")

	// Relabelled to another configured key: the key id is authenticated, so it fails too.
	both := newCodec(t, k1, key(t, "k2"))
	relabelled := proto.Clone(enc[0]).(*commonpb.Payload)
	relabelled.Metadata[MetadataKeyID] = []byte("k2")
	_, err = both.Decode([]*commonpb.Payload{relabelled})
	require.Error(t, err)
}

func TestUnknownKeyIDFails(t *testing.T) {
	enc, err := newCodec(t, key(t, "old")).Encode([]*commonpb.Payload{jsonPayload(t, "x")})
	require.NoError(t, err)
	_, err = newCodec(t, key(t, "new")).Decode(enc)
	require.ErrorContains(t, err, `key "old", which is not configured`)
}

func TestRotation(t *testing.T) {
	a, b := key(t, "A"), key(t, "B")
	underA, err := newCodec(t, a).Encode([]*commonpb.Payload{jsonPayload(t, "before")})
	require.NoError(t, err)

	rotated := newCodec(t, b, a)
	require.Equal(t, "B", rotated.KeyID())
	dec, err := rotated.Decode(underA)
	require.NoError(t, err)
	var s string
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(dec[0], &s))
	require.Equal(t, "before", s)

	underB, err := rotated.Encode([]*commonpb.Payload{jsonPayload(t, "after")})
	require.NoError(t, err)
	require.Equal(t, "B", string(underB[0].Metadata[MetadataKeyID]))
}

func TestUnencryptedPassesThrough(t *testing.T) {
	c := newCodec(t, key(t, "k1"))
	plain := []*commonpb.Payload{jsonPayload(t, "recorded before the codec"), {Metadata: map[string][]byte{"encoding": []byte("binary/null")}}}
	dec, err := c.Decode(plain)
	require.NoError(t, err)
	for i := range plain {
		require.Same(t, plain[i], dec[i])
	}
}

func TestNoncesAreFresh(t *testing.T) {
	c := newCodec(t, key(t, "k1"))
	p := jsonPayload(t, "same text")
	seen := map[string]bool{}
	for range 1000 {
		enc, err := c.Encode([]*commonpb.Payload{p})
		require.NoError(t, err)
		nonce := string(enc[0].Data[:12])
		require.False(t, seen[nonce], "a nonce came twice")
		seen[nonce] = true
	}
	a, _ := c.Encode([]*commonpb.Payload{p})
	b, _ := c.Encode([]*commonpb.Payload{p})
	require.False(t, bytes.Equal(a[0].Data, b[0].Data), "the same plaintext encrypts differently each time")
}

func TestWithoutKeysNothingIsEncrypted(t *testing.T) {
	c := newCodec(t)
	require.False(t, c.Encrypts())
	p := jsonPayload(t, "x")
	enc, err := c.Encode([]*commonpb.Payload{p})
	require.NoError(t, err)
	require.Same(t, p, enc[0])
	// But what some other configuration encrypted is refused, not handed on as is.
	sealed, err := newCodec(t, key(t, "k1")).Encode([]*commonpb.Payload{p})
	require.NoError(t, err)
	_, err = c.Decode(sealed)
	require.Error(t, err)
}

func TestNewRefusesBadKeys(t *testing.T) {
	_, err := New(Key{ID: "k", Secret: make([]byte, 16)})
	require.ErrorContains(t, err, "16 bytes")
	_, err = New(Key{Secret: make([]byte, 32)})
	require.ErrorContains(t, err, "no id")
	_, err = New(Key{ID: "k", Secret: make([]byte, 32)}, Key{ID: "k", Secret: make([]byte, 32)})
	require.ErrorContains(t, err, "twice")
}

func TestGenerateKey(t *testing.T) {
	a, err := GenerateKey()
	require.NoError(t, err)
	b, err := GenerateKey()
	require.NoError(t, err)
	require.NotEqual(t, a, b)
	id, raw, ok := strings.Cut(a, ":")
	require.True(t, ok)
	secret, err := base64.StdEncoding.DecodeString(raw)
	require.NoError(t, err)
	_, err = New(Key{ID: id, Secret: secret})
	require.NoError(t, err)
}

// TestFailureConverterEncryptsMessages: an error's message can quote a patient, so what the
// server stores of a failure is its type and an encrypted attribute, and the platform's own
// clients read the message back.
func TestFailureConverterEncryptsMessages(t *testing.T) {
	c := newCodec(t, key(t, "k1"))
	fc := FailureConverter(c)
	f := fc.ErrorToFailure(temporal.NewApplicationError("slot taken, persistent cough", "conflict"))
	raw, err := proto.Marshal(f)
	require.NoError(t, err)
	require.False(t, bytes.Contains(raw, []byte("persistent cough")))
	require.Equal(t, "Encoded failure", f.GetMessage())
	require.Equal(t, "conflict", f.GetApplicationFailureInfo().GetType())
	require.Equal(t, EncodingEncrypted, string(f.GetEncodedAttributes().GetMetadata()[converter.MetadataEncoding]))

	var appErr *temporal.ApplicationError
	require.ErrorAs(t, fc.FailureToError(f), &appErr)
	require.Equal(t, "slot taken, persistent cough", appErr.Message())
	require.Equal(t, "conflict", appErr.Type())
}
