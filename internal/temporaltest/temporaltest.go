// Package temporaltest starts the pinned Temporal dev server (./bin/temporal) for integration
// tests, with the platform's search attributes registered.
package temporaltest

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/clinicbook/booking/codec"
	"github.com/clinicbook/booking/workflows"
)

// TestKeyID and TestKey are the payload codec key of every test client and worker, and of the
// histories recorded in workflows/testdata/histories: random bytes, public, for tests only.
const (
	TestKeyID = "test"
	TestKey   = "UlIPG34ExRIL0px7oxHg5bAQuLfHQBwqA09hAMwnV2Y="
)

// Key is the test key.
func Key() codec.Key {
	secret, err := base64.StdEncoding.DecodeString(TestKey)
	if err != nil {
		panic(err)
	}
	return codec.Key{ID: TestKeyID, Secret: secret}
}

// Codec encrypts with the test key.
func Codec() *codec.Codec {
	c, err := codec.New(Key())
	if err != nil {
		panic(err)
	}
	return c
}

// DataConverter is what the platform's clients use, with the test key.
func DataConverter() converter.DataConverter { return codec.DataConverter(Codec()) }

// FailureConverter encodes failure messages with the test key, as the platform's clients do.
func FailureConverter() converter.FailureConverter { return codec.FailureConverter(Codec()) }

// Server is a running dev server.
type Server struct {
	dev *testsuite.DevServer
}

// Start runs a dev server on a free port. Call it from TestMain and Stop it after m.Run: one
// server per test package keeps the suite within this machine's two cores.
func Start(ctx context.Context) (*Server, error) {
	bin, err := binary()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	dev, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath: bin,
		LogLevel:     "error",
		ClientOptions: &client.Options{
			Namespace: "default",
			Logger:    quietLogger{},
		},
		SearchAttributes: temporal.NewSearchAttributes(
			workflows.StatusAttr.ValueSet(""),
			workflows.ProviderAttr.ValueSet(""),
			workflows.PatientAttr.ValueSet(""),
			workflows.AppointmentStartAttr.ValueSet(time.Time{}),
		),
		// One task-queue partition, as in `make dev`: faster on a small machine, and list
		// queries see new workflows sooner.
		ExtraArgs: []string{
			"--dynamic-config-value", "matching.numTaskqueueReadPartitions=1",
			"--dynamic-config-value", "matching.numTaskqueueWritePartitions=1",
		},
		Stdout: io.Discard,
		Stderr: os.Stderr,
	})
	if err != nil {
		return nil, fmt.Errorf("start the Temporal dev server (%s): %w", bin, err)
	}
	return &Server{dev: dev}, nil
}

// Address is the frontend's host:port.
func (s *Server) Address() string { return s.dev.FrontendHostPort() }

// Client returns a new client that encrypts with the test key; eager start needs the starter
// and the worker to share one.
func (s *Server) Client() (client.Client, error) {
	return client.Dial(client.Options{HostPort: s.Address(), Namespace: "default", Logger: quietLogger{},
		DataConverter: DataConverter(), FailureConverter: FailureConverter()})
}

// RawClient returns a client without the codec: it sees the payloads as the server stores them.
func (s *Server) RawClient() (client.Client, error) {
	return client.Dial(client.Options{HostPort: s.Address(), Namespace: "default", Logger: quietLogger{}})
}

// Stop ends the server.
func (s *Server) Stop() error { return s.dev.Stop() }

// binary finds ./bin/temporal at the module root: `make test` builds it before the tests.
func binary() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			bin := filepath.Join(dir, "bin", "temporal")
			if _, err := os.Stat(bin); err != nil {
				return "", fmt.Errorf("%s is missing: run `make tools` (or `make test`, which builds it)", bin)
			}
			return bin, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// quietLogger drops the SDK's debug and info lines, which drown test output.
type quietLogger struct{}

func (quietLogger) Debug(string, ...interface{}) {}
func (quietLogger) Info(string, ...interface{})  {}
func (quietLogger) Warn(msg string, kv ...interface{}) {
	fmt.Fprintln(os.Stderr, append([]interface{}{"temporal warn:", msg}, kv...)...)
}
func (quietLogger) Error(msg string, kv ...interface{}) {
	fmt.Fprintln(os.Stderr, append([]interface{}{"temporal error:", msg}, kv...)...)
}
