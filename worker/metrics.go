package worker

import (
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"
)

// MetricsHandler exports the Temporal SDK's own metrics (workflow and activity task latencies,
// poll results, schedule-to-start times...) into reg, so /metrics shows them beside ours.
func MetricsHandler(reg *prometheus.Registry) client.MetricsHandler {
	reporter, err := tallyprom.Configuration{TimerType: "histogram"}.NewReporter(tallyprom.ConfigurationOptions{
		Registry: reg,
		OnError:  func(err error) { slog.Warn("temporal metric not registered", "err", err) },
	})
	if err != nil {
		slog.Warn("temporal metrics disabled", "err", err)
		return nil
	}
	scope, _ := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter:  reporter,
		Separator:       tallyprom.DefaultSeparator,
		SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
		Prefix:          "temporal",
	}, time.Second)
	return sdktally.NewMetricsHandler(scope)
}
