package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	temporallog "go.temporal.io/sdk/log"

	"github.com/clinicbook/booking/codec"
	"github.com/clinicbook/booking/config"
	"github.com/clinicbook/booking/telemetry"
)

// DialTemporal connects to the Temporal frontend of cfg with opts (TemporalOptions), adding
// TLS and the API key when configured. It waits for the frontend for up to two minutes,
// because in `make dev` and in compose it may still be starting.
func DialTemporal(ctx context.Context, cfg config.Temporal, opts client.Options) (client.Client, error) {
	opts.HostPort = cfg.Address
	opts.Namespace = cfg.Namespace
	opts.Logger = temporallog.NewStructuredLogger(slog.Default())
	if cfg.TLS || cfg.TLSCertFile != "" || cfg.APIKey != "" {
		tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.TLSServerName}
		if cfg.TLSCertFile != "" {
			cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
			if err != nil {
				return nil, fmt.Errorf("TEMPORAL_TLS_CERT/TEMPORAL_TLS_KEY: %w", err)
			}
			tlsCfg.Certificates = []tls.Certificate{cert}
		}
		if cfg.TLSCAFile != "" {
			pem, err := os.ReadFile(cfg.TLSCAFile)
			if err != nil {
				return nil, fmt.Errorf("TEMPORAL_TLS_CA: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, errors.New("TEMPORAL_TLS_CA: no certificate found")
			}
			tlsCfg.RootCAs = pool
		}
		opts.ConnectionOptions.TLS = tlsCfg
	}
	if cfg.APIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(cfg.APIKey)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		c, err := client.DialContext(ctx, opts)
		if err == nil {
			return c, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("reach Temporal at %s: %w", cfg.Address, err)
		}
		slog.Info("waiting for Temporal", "address", cfg.Address, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
	}
}

// NewCodec is the payload codec of TEMPORAL_CODEC_KEYS: every process that talks to Temporal
// must use the same one, or it cannot read what the others wrote. Without a key (only the
// dev sandbox may run so; config refuses it elsewhere) payloads are stored as they are.
func NewCodec(cfg config.Codec) (*codec.Codec, error) {
	keys := make([]codec.Key, len(cfg.Keys))
	for i, k := range cfg.Keys {
		keys[i] = codec.Key(k)
	}
	pc, err := codec.New(keys...)
	if err != nil {
		return nil, fmt.Errorf("TEMPORAL_CODEC_KEYS: %w", err)
	}
	if !pc.Encrypts() {
		slog.Warn("TEMPORAL_CODEC_KEYS is not set: payloads are stored in Temporal unencrypted (dev sandbox only)")
	}
	return pc, nil
}

// TemporalOptions are the client options beyond the address: the payload codec pc (for data
// and failures alike, so that error messages are encrypted too), the SDK's metrics, and
// tracing named service when OTEL_EXPORTER_OTLP_ENDPOINT is set. The returned shutdown
// flushes spans; call it once the client is closed.
func TemporalOptions(ctx context.Context, cfg config.Config, service string, metrics client.MetricsHandler, pc *codec.Codec) (client.Options, func(), error) {
	opts := client.Options{MetricsHandler: metrics, DataConverter: codec.DataConverter(pc),
		FailureConverter: codec.FailureConverter(pc)}
	if cfg.OTLPEndpoint == "" {
		return opts, func() {}, nil
	}
	shutdown, err := telemetry.Setup(ctx, cfg.OTLPEndpoint, service)
	if err != nil {
		return opts, nil, err
	}
	tracing, err := telemetry.TemporalInterceptor()
	if err != nil {
		return opts, nil, err
	}
	opts.Interceptors = []interceptor.ClientInterceptor{tracing}
	slog.Info("tracing to " + cfg.OTLPEndpoint)
	return opts, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = shutdown(ctx)
	}, nil
}
