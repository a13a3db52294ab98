// Command executor-tracer is a test stand-in for the tracing half of the Seldon Core v1.18.2
// executor (service orchestrator), whose module the Go module proxy does not serve.
//
// It reproduces, on the versions the executor pins (jaeger-client-go v2.25.0, opentracing-go
// v1.2.0, jaeger-lib v2.2.0):
//   - executor/api/tracing/trace.go InitTracing: jaegercfg.FromEnv(); service name "executor"
//     when JAEGER_SERVICE_NAME is unset; JAEGER_TRACE_PROPAGATION_TYPE exactly "b3" selects the
//     Zipkin B3 HTTP propagator (injector, extractor, ZipkinSharedRPCSpan(true)), anything else
//     the default Jaeger headers; cfg.InitGlobalTracer. An error ends the process through
//     log.Fatal (exit 1), as executor/cmd/executor/main.go does; a panic inside FromEnv (a
//     JAEGER_TAGS item without '=') ends it with Go's panic exit code 2.
//   - executor/api/rest/server.go predictions: when a global tracer is registered, a server span
//     "predictions" joined to the extracted caller context (ext.RPCServerOption).
//   - executor/api/rest/client.go doHttp: a client span named after the called path ("/predict"),
//     child of the server span, injected into the outgoing request's headers; POST of the JSON
//     body to the next graph node.
//   - shutdown: closer.Close() on SIGTERM/SIGINT, as main's deferred Close does, so buffered
//     spans are flushed.
//
// Added for the test harness only (not in the executor): after each request it prints
// "trace <trace-id> sampled=<bool>" on stdout, so the harness can look the trace up in Jaeger,
// and "ready" once it listens.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/ext"
	jaeger "github.com/uber/jaeger-client-go"
	jaegercfg "github.com/uber/jaeger-client-go/config"
	"github.com/uber/jaeger-client-go/zipkin"
)

func initTracing() (io.Closer, error) {
	cfg, err := jaegercfg.FromEnv()
	if err != nil {
		return nil, err
	}
	if cfg.ServiceName == "" {
		cfg.ServiceName = "executor"
	}
	if os.Getenv("JAEGER_TRACE_PROPAGATION_TYPE") == "b3" {
		p := zipkin.NewZipkinB3HTTPHeaderPropagator()
		return cfg.InitGlobalTracer(cfg.ServiceName,
			jaegercfg.Injector(opentracing.HTTPHeaders, p),
			jaegercfg.Extractor(opentracing.HTTPHeaders, p),
			jaegercfg.ZipkinSharedRPCSpan(true))
	}
	return cfg.InitGlobalTracer(cfg.ServiceName)
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address of the executor's REST server")
	next := flag.String("next", "", "URL of the next graph node's /predict")
	flag.Parse()

	closer, err := initTracing()
	if err != nil {
		log.Fatal("Could not initialize jaeger tracer", err.Error())
	}

	http.HandleFunc("/api/v1.0/predictions", func(w http.ResponseWriter, req *http.Request) {
		ctx := req.Context()
		var serverSpan opentracing.Span
		if opentracing.IsGlobalTracerRegistered() {
			tracer := opentracing.GlobalTracer()
			spanCtx, _ := tracer.Extract(opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier(req.Header))
			serverSpan = tracer.StartSpan("predictions", ext.RPCServerOption(spanCtx))
			ctx = opentracing.ContextWithSpan(ctx, serverSpan)
		}
		body, _ := io.ReadAll(req.Body)
		status, out := callNext(ctx, *next, body)
		if serverSpan != nil {
			serverSpan.Finish()
			if sc, ok := serverSpan.Context().(jaeger.SpanContext); ok {
				fmt.Printf("trace %s sampled=%t\n", sc.TraceID().String(), sc.IsSampled())
			}
		} else {
			fmt.Println("trace none")
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(out)
	})

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("ready %s\n", ln.Addr())
	srv := &http.Server{}
	go func() { _ = srv.Serve(ln) }()

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	_ = srv.Shutdown(context.Background())
	_ = closer.Close()
}

func callNext(ctx context.Context, url string, body []byte) (int, []byte) {
	if url == "" {
		return http.StatusOK, body
	}
	req, err := http.NewRequest("POST", url, bytes.NewBuffer(body))
	if err != nil {
		return http.StatusInternalServerError, []byte(err.Error())
	}
	req.Header.Set("Content-Type", "application/json")
	if opentracing.IsGlobalTracerRegistered() {
		tracer := opentracing.GlobalTracer()
		opts := []opentracing.StartSpanOption{}
		if parent := opentracing.SpanFromContext(ctx); parent != nil {
			opts = append(opts, opentracing.ChildOf(parent.Context()))
		}
		clientSpan := opentracing.StartSpan("/predict", opts...)
		defer clientSpan.Finish()
		_ = tracer.Inject(clientSpan.Context(), opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier(req.Header))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return http.StatusBadGateway, []byte(err.Error())
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}
