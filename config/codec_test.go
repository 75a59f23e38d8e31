package config

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func codecKey(id string, b byte) string {
	return id + ":" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat(string(rune(b)), 32)))
}

func TestCodecKeysFirstEncrypts(t *testing.T) {
	e := validEnv()
	e["TEMPORAL_CODEC_KEYS"] = codecKey("b", 'b') + ", " + codecKey("a", 'a')
	c, err := Load(env(e))
	require.NoError(t, err)
	require.Len(t, c.Codec.Keys, 2)
	require.Equal(t, "b", c.Codec.Keys[0].ID)
	require.Equal(t, []byte(strings.Repeat("b", 32)), c.Codec.Keys[0].Secret)
	require.Equal(t, "a", c.Codec.Keys[1].ID)
	require.Equal(t, []string{"http://127.0.0.1:8233", "http://localhost:8233"}, c.Codec.UIOrigins)
}

func TestCodecKeysRefusedWhenMalformed(t *testing.T) {
	for name, v := range map[string]string{
		"no id":       ":" + base64.StdEncoding.EncodeToString(make([]byte, 32)),
		"no colon":    base64.StdEncoding.EncodeToString(make([]byte, 32)),
		"not base64":  "k:not base64!",
		"short key":   "k:" + base64.StdEncoding.EncodeToString(make([]byte, 16)),
		"id repeated": codecKey("k", 'a') + "," + codecKey("k", 'b'),
	} {
		t.Run(name, func(t *testing.T) {
			e := validEnv()
			e["TEMPORAL_CODEC_KEYS"] = v
			_, err := Load(env(e))
			require.ErrorContains(t, err, "TEMPORAL_CODEC_KEYS")
			require.NotContains(t, err.Error(), "\n")
			// The value is a secret: it must not be echoed into logs.
			if _, secret, ok := strings.Cut(v, ":"); ok && len(secret) > 8 {
				require.NotContains(t, err.Error(), secret)
			}
		})
	}
}

func TestCodecKeyRequiredOutsideTheSandbox(t *testing.T) {
	e := validEnv()
	delete(e, "TEMPORAL_CODEC_KEYS")
	_, err := Load(env(e))
	require.ErrorContains(t, err, "TEMPORAL_CODEC_KEYS is required outside the dev sandbox")

	// The local sandbox may run without one.
	e["TWILIO_API_BASE_URL"] = "http://127.0.0.1:8090"
	c, err := Load(env(e))
	require.NoError(t, err)
	require.Empty(t, c.Codec.Keys)
}

func TestCodecDevelopmentKeyRefusedOutsideTheSandbox(t *testing.T) {
	e := validEnv()
	e["TEMPORAL_CODEC_KEYS"] = "dev-codec:IGivfYe97xBpBn+mMhYmTt0ZmfaDRdJEatdi1Xh1DXQ="
	_, err := Load(env(e))
	require.ErrorContains(t, err, "TEMPORAL_CODEC_KEYS holds a placeholder or development value")
}

func TestUIOrigins(t *testing.T) {
	e := validEnv()
	e["TEMPORAL_UI_ORIGIN"] = "https://temporal.clinic.example/, https://cloud.temporal.io"
	c, err := Load(env(e))
	require.NoError(t, err)
	require.Equal(t, []string{"https://temporal.clinic.example", "https://cloud.temporal.io"}, c.Codec.UIOrigins)

	e["TEMPORAL_UI_ORIGIN"] = "https://temporal.clinic.example/ui"
	_, err = Load(env(e))
	require.ErrorContains(t, err, "TEMPORAL_UI_ORIGIN must be a comma-separated list of origins")
}

func lookupEnv(kv map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := kv[k]
		return v, ok
	}
}

func TestTemporalUIURL(t *testing.T) {
	e := validEnv()
	c, err := LoadLookup(lookupEnv(e))
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:8233", c.Temporal.UIURL, "unset: the first Web UI origin")

	e["TEMPORAL_UI_ORIGIN"] = "https://temporal.clinic.example, https://cloud.temporal.io"
	c, err = LoadLookup(lookupEnv(e))
	require.NoError(t, err)
	require.Equal(t, "https://temporal.clinic.example", c.Temporal.UIURL)

	e["TEMPORAL_UI_URL"] = "https://ops.clinic.example/temporal/"
	c, err = LoadLookup(lookupEnv(e))
	require.NoError(t, err)
	require.Equal(t, "https://ops.clinic.example/temporal", c.Temporal.UIURL, "the trailing slash is trimmed")

	e["TEMPORAL_UI_URL"] = ""
	c, err = LoadLookup(lookupEnv(e))
	require.NoError(t, err)
	require.Equal(t, "", c.Temporal.UIURL, "set but empty: no links")
	// Through Load an empty value cannot be told from an unset one.
	c, err = Load(env(e))
	require.NoError(t, err)
	require.Equal(t, "https://temporal.clinic.example", c.Temporal.UIURL)

	for _, bad := range []string{"temporal.clinic.example", "ftp://temporal.clinic.example", "/namespaces",
		"https://temporal.clinic.example/?x=1", "https://temporal.clinic.example/#top", "https://user:pw@temporal.clinic.example"} {
		e["TEMPORAL_UI_URL"] = bad
		_, err := LoadLookup(lookupEnv(e))
		require.ErrorContains(t, err, "TEMPORAL_UI_URL must be an absolute http(s) URL", bad)
		require.NotContains(t, err.Error(), "\n")
	}
}
