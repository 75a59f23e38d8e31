package telemetry_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/clinicbook/booking/telemetry"
)

func recorder(t *testing.T) *tracetest.SpanRecorder {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	telemetry.Install(tp)
	return rec
}

func names(rec *tracetest.SpanRecorder) []string {
	var out []string
	for _, s := range rec.Ended() {
		out = append(out, s.Name())
	}
	return out
}

func TestHTTPRequestsBecomeSpansJoinedToTheCallersTrace(t *testing.T) {
	rec := recorder(t)
	h := telemetry.HTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) }), "booking-api")
	r := httptest.NewRequest(http.MethodGet, "/v1/services", nil)
	r.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	h.ServeHTTP(httptest.NewRecorder(), r)

	spans := rec.Ended()
	require.Len(t, spans, 1)
	require.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", spans[0].SpanContext().TraceID().String())
}

func greet(ctx context.Context, name string) (string, error) { return "hello " + name, nil }

func greeter(ctx workflow.Context, name string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	var out string
	err := workflow.ExecuteActivity(ctx, greet, name).Get(ctx, &out)
	return out, err
}

func TestTemporalInterceptorTracesWorkflowsAndActivities(t *testing.T) {
	rec := recorder(t)
	tracing, err := telemetry.TemporalInterceptor()
	require.NoError(t, err)

	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{tracing}})
	env.RegisterWorkflow(greeter)
	env.RegisterActivityWithOptions(greet, activity.RegisterOptions{Name: "greet"})
	env.ExecuteWorkflow(greeter, "ann")
	require.NoError(t, env.GetWorkflowError())

	got := names(rec)
	require.Contains(t, got, "RunWorkflow:greeter")
	require.Contains(t, got, "StartActivity:greet")
	require.Contains(t, got, "RunActivity:greet")
}
