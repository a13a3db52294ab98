// Command core2-tracer is a test stand-in for the tracing set-up of Seldon Core 2's core
// components (scheduler, model and pipeline gateways, each Server's agent): the package
// scheduler/pkg/tracing of seldon-core v2.10.2, whose module the Go module proxy does not serve.
//
// It reproduces provider.go's loadConfig and recreateTracerProvider, on the OpenTelemetry Go SDK
// versions Seldon pins at v2.10.2 (otel, sdk, otlptrace and otlptracegrpc v1.37.0):
//   - the --tracing-config-path file is decoded with encoding/json into a struct with the same
//     fields and tags (disable bool "disable", otelExporterEndpoint and otelExporterProtocol
//     string, ratio string tagged "Ratio", so keys match case-insensitively), with
//     DisallowUnknownFields: an unknown key (the old "enable") or a number where a string is
//     expected ("ratio": 1) is an error;
//   - not disabled: strconv.ParseFloat(ratio, 64) must succeed, and an empty endpoint is the
//     error "Trace enabled but Otel endpoint empty";
//   - not disabled: an insecure OTLP/gRPC exporter to the endpoint, a batch span processor,
//     ParentBased(TraceIDRatioBased(ratio)) (ratio 1.0 when empty, which the parse check above
//     already refuses), the service name as resource, the W3C trace-context and baggage
//     propagators;
//   - disabled: the no-op tracer provider.
//
// An error ends the process with exit 1 and the error on stderr, as the components' main
// functions do when NewTraceProvider fails.
//
// Added for the test harness only (not in Seldon): once set up it starts --roots root spans (each
// its own trace) and one span under a remote parent whose W3C traceparent says sampled, ends
// them, shuts the provider down (flushing the batch), and prints one JSON line: the root trace
// ids and the parent's trace id, so the harness can count in Jaeger what arrived.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.4.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// TracingConfig has provider.go's fields and JSON tags.
type TracingConfig struct {
	Disable              bool   `json:"disable"`
	OtelExporterEndpoint string `json:"otelExporterEndpoint"`
	OtelExporterProtocol string `json:"otelExporterProtocol"`
	Ratio                string `json:"Ratio"`
}

// loadConfig is provider.go's loadConfig: decode strictly, check the ratio when enabled.
func loadConfig(path string) (*TracingConfig, error) {
	if path == "" {
		return &TracingConfig{Disable: true}, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	tc := TracingConfig{}
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(&tc); err != nil {
		return nil, err
	}
	if !tc.Disable {
		if _, err := strconv.ParseFloat(tc.Ratio, 64); err != nil {
			return nil, err
		}
	}
	return &tc, nil
}

// provider is recreateTracerProvider's result for a first load.
func provider(config *TracingConfig, service string) (trace.TracerProvider, func(), error) {
	if config.Disable {
		return noop.NewTracerProvider(), func() {}, nil
	}
	if config.OtelExporterEndpoint == "" {
		return nil, nil, fmt.Errorf("Trace enabled but Otel endpoint empty")
	}
	client := otlptracegrpc.NewClient(
		otlptracegrpc.WithInsecure(),
		otlptracegrpc.WithEndpoint(config.OtelExporterEndpoint),
	)
	exp, err := otlptrace.New(context.Background(), client)
	if err != nil {
		return nil, nil, err
	}
	bsp := sdktrace.NewBatchSpanProcessor(exp)
	ratio := 1.0
	if config.Ratio != "" {
		if parsed, err := strconv.ParseFloat(config.Ratio, 64); err == nil {
			ratio = parsed
		}
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))),
		sdktrace.WithResource(resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceNameKey.String(service))),
		sdktrace.WithSpanProcessor(bsp),
	)
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	shutdown := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := tp.Shutdown(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "shutdown:", err)
		}
	}
	return tp, shutdown, nil
}

type probe struct {
	Roots       []string `json:"roots"`
	RootSampled int      `json:"rootSampled"`
	Parent      string   `json:"parent"`
}

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "rproxy":
			rproxyMain(os.Args[2:])
			return
		case "route":
			routeMain(os.Args[2:])
			return
		case "pipelinegateway":
			pipelineGatewayMain(os.Args[2:])
			return
		case "modelgateway":
			modelGatewayMain(os.Args[2:])
			return
		case "dataflow":
			dataflowMain(os.Args[2:])
			return
		}
	}
	path := flag.String("tracing-config-path", "", "the tracing.json file (as the components take it)")
	service := flag.String("service", "seldon-scheduler", "the service name spans are under")
	roots := flag.Int("roots", 200, "root spans to start")
	flag.Parse()
	config, err := loadConfig(*path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tp, shutdown, err := provider(config, *service)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tracer := tp.Tracer("core2-tracer")
	out := probe{}
	for i := 0; i < *roots; i++ {
		_, span := tracer.Start(context.Background(), "root")
		sc := span.SpanContext()
		if sc.HasTraceID() {
			out.Roots = append(out.Roots, sc.TraceID().String())
		}
		if sc.IsSampled() {
			out.RootSampled++
		}
		span.End()
	}
	// A caller's sampled W3C trace context, as a gateway receives it.
	parentID := fmt.Sprintf("%016x%016x", time.Now().UnixNano(), os.Getpid())
	carrier := propagation.MapCarrier{"traceparent": "00-" + parentID + "-00f067aa0ba902b7-01"}
	ctx := propagation.TraceContext{}.Extract(context.Background(), carrier)
	_, child := tracer.Start(ctx, "under-sampled-parent")
	out.Parent = parentID
	child.End()
	shutdown()
	line, _ := json.Marshal(out)
	fmt.Println(string(line))
}
