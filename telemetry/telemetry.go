// Package telemetry turns on OpenTelemetry tracing when an OTLP endpoint is configured: spans
// for every HTTP request, and through Temporal's interceptor for every workflow start, update,
// workflow task and activity, linked across processes by the trace context Temporal carries in
// its headers.
package telemetry

import (
	"context"
	"fmt"
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
)

// Setup installs a tracer provider that exports to the OTLP/HTTP endpoint (such as
// http://otel-collector:4318) and returns its shutdown, which flushes spans in flight.
func Setup(ctx context.Context, endpoint, service string) (func(context.Context) error, error) {
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	if err != nil {
		return nil, fmt.Errorf("otlp exporter: %w", err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName(service))),
	)
	Install(tp)
	return tp.Shutdown, nil
}

// Install makes tp the global tracer provider, with W3C trace context propagation.
func Install(tp *sdktrace.TracerProvider) {
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
}

// TemporalInterceptor traces Temporal calls with the global tracer provider. Give it to the
// client (client.Options.Interceptors): workers built on that client inherit it.
func TemporalInterceptor() (interceptor.Interceptor, error) {
	return opentelemetry.NewTracingInterceptor(opentelemetry.TracerOptions{})
}

// HTTP wraps an HTTP handler so that each request is a span, joined to the caller's trace.
func HTTP(h http.Handler, service string) http.Handler {
	return otelhttp.NewHandler(h, service)
}
