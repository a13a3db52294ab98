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
//   - executor/api/rest/client.go doHttp: a client span named after the called path ("/predict",
//     "/transform-input", "/transform-output", "/aggregate"), child of the server span, without
//     tags; the incoming request's headers are copied onto the outgoing request first, then the
//     trace headers are injected (so with tracing off, a caller's uber-trace-id reaches the
//     model unchanged, as docs/facts/traces.md records); POST of the JSON body to the graph node.
//   - executor/predictor/predictor_process.go, for the Seldon protocol over REST: the graph is
//     the predictor in ENGINE_PREDICTOR (base64 JSON, as the operator sets it); per node, its
//     input call (/transform-input for a TRANSFORMER or a TRANSFORM_INPUT method, /predict for a
//     MODEL or a node without type and methods), then its children (one after the other when
//     there is one, concurrently when there are several), then /aggregate (COMBINER or
//     AGGREGATE), then /transform-output (OUTPUT_TRANSFORMER or TRANSFORM_OUTPUT). Built-in
//     implementations make no call. A node that cannot be reached ends the request with the
//     executor's error answer (HTTP 500, a SeldonMessage status; see failure). The gRPC server
//     and client (--grpc-listen, --node NAME=grpc://HOST:PORT) are in grpc.go. Not reproduced:
//     routers (/route), feedback, metadata, the tensorflow and v2 protocols, and the executor's
//     own payload handling.
//
// Where a node listens comes from --node NAME=URL (the operator would set each node's
// endpoint); without ENGINE_PREDICTOR, --next URL is a one-MODEL graph calling URL.
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
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/opentracing/opentracing-go"
	"github.com/opentracing/opentracing-go/ext"
	jaeger "github.com/uber/jaeger-client-go"
	jaegercfg "github.com/uber/jaeger-client-go/config"
	"github.com/uber/jaeger-client-go/zipkin"
	"google.golang.org/grpc"
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

// node is a graph node as the executor reads it from ENGINE_PREDICTOR.
type node struct {
	Name           string   `json:"name"`
	Type           string   `json:"type"`
	Implementation string   `json:"implementation"`
	Methods        []string `json:"methods"`
	Children       []node   `json:"children"`
}

func (n node) has(method string) bool {
	for _, m := range n.Methods {
		if m == method {
			return true
		}
	}
	return false
}

var builtIn = map[string]bool{
	"SIMPLE_MODEL": true, "SIMPLE_ROUTER": true, "RANDOM_ABTEST": true, "AVERAGE_COMBINER": true,
}

type nodeURLs map[string]string

func (u nodeURLs) String() string { return fmt.Sprint(map[string]string(u)) }
func (u nodeURLs) Set(v string) error {
	name, url, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("want NAME=URL, got %q", v)
	}
	u[name] = strings.TrimRight(url, "/")
	return nil
}

func graphFromEnv() (node, error) {
	enc := os.Getenv("ENGINE_PREDICTOR")
	if enc == "" {
		return node{Name: "model", Type: "MODEL"}, nil
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return node{}, err
	}
	var p struct {
		Graph node `json:"graph"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return node{}, err
	}
	return p.Graph, nil
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address of the executor's REST server")
	grpcListen := flag.String("grpc-listen", "", "address of the executor's gRPC server (none when empty)")
	next := flag.String("next", "", "URL of the next graph node's /predict (a one-MODEL graph)")
	urls := nodeURLs{}
	flag.Var(urls, "node", "NAME=URL: where graph node NAME listens (repeatable)")
	flag.Parse()

	closer, err := initTracing()
	if err != nil {
		log.Fatal("Could not initialize jaeger tracer", err.Error())
	}
	graph, err := graphFromEnv()
	if err != nil {
		log.Fatal("Could not read ENGINE_PREDICTOR ", err.Error())
	}
	if *next != "" {
		urls[graph.Name] = strings.TrimSuffix(*next, "/predict")
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
		status, out := walk(ctx, graph, restCaller{urls, req.Header}, body)
		if serverSpan != nil {
			serverSpan.Finish()
			if sc, ok := serverSpan.Context().(jaeger.SpanContext); ok {
				fmt.Printf("trace %s sampled=%t\n", sc.TraceID().String(), sc.IsSampled())
			} else {
				fmt.Println("trace none")
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
	var grpcServer *grpc.Server
	grpcAddr := ""
	if *grpcListen != "" {
		gln, err := net.Listen("tcp", *grpcListen)
		if err != nil {
			log.Fatal(err)
		}
		grpcAddr = " " + gln.Addr().String()
		grpcServer = newGrpcServer(graph, urls)
		go func() { _ = grpcServer.Serve(gln) }()
	}
	fmt.Printf("ready %s%s\n", ln.Addr(), grpcAddr)
	srv := &http.Server{}
	go func() { _ = srv.Serve(ln) }()

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	_ = srv.Shutdown(context.Background())
	if grpcServer != nil {
		grpcServer.GracefulStop()
	}
	_ = closer.Close()
}

// caller makes the executor's calls to graph nodes, over REST or gRPC.
type caller interface {
	// call sends msg to node n's method named by its REST path; an HTTP-like status and the
	// answer.
	call(ctx context.Context, n node, path string, msg []byte) (int, []byte)
	// list joins children's answers into the aggregate call's message.
	list(outs [][]byte) []byte
}

// restCaller calls nodes over REST, copying the incoming request's headers.
type restCaller struct {
	urls nodeURLs
	in   http.Header
}

func (r restCaller) call(ctx context.Context, n node, path string, msg []byte) (int, []byte) {
	return callNode(ctx, r.urls[n.Name]+path, path, r.in, msg)
}

func (r restCaller) list(outs [][]byte) []byte {
	return []byte("{\"seldonMessages\":[" + string(bytes.Join(outs, []byte(","))) + "]}")
}

// walk sends msg through node n and its children as the executor does.
func walk(ctx context.Context, n node, c caller, msg []byte) (int, []byte) {
	builtin := builtIn[n.Implementation]
	ty := n.Type
	if ty == "" && len(n.Methods) == 0 && !builtin {
		ty = "MODEL"
	}
	call := func(path string, body []byte) (int, []byte) {
		return c.call(ctx, n, path, body)
	}
	status := http.StatusOK
	if !builtin {
		switch {
		case ty == "TRANSFORMER" || n.has("TRANSFORM_INPUT"):
			status, msg = call("/transform-input", msg)
		case ty == "MODEL":
			status, msg = call("/predict", msg)
		}
		if status >= 400 {
			return status, msg
		}
	}
	switch len(n.Children) {
	case 0:
	case 1:
		status, msg = walk(ctx, n.Children[0], c, msg)
	default:
		outs := make([][]byte, len(n.Children))
		codes := make([]int, len(n.Children))
		var wg sync.WaitGroup
		for i, ch := range n.Children {
			wg.Add(1)
			go func(i int, ch node) {
				defer wg.Done()
				codes[i], outs[i] = walk(ctx, ch, c, msg)
			}(i, ch)
		}
		wg.Wait()
		for i, code := range codes {
			if code >= 400 {
				return code, outs[i]
			}
		}
		msg = outs[0]
		if !builtin && (ty == "COMBINER" || n.has("AGGREGATE")) {
			status, msg = call("/aggregate", c.list(outs))
		}
	}
	if status >= 400 {
		return status, msg
	}
	if !builtin && (ty == "OUTPUT_TRANSFORMER" || n.has("TRANSFORM_OUTPUT")) {
		status, msg = call("/transform-output", msg)
	}
	return status, msg
}

func callNode(ctx context.Context, url, path string, in http.Header, body []byte) (int, []byte) {
	if url == path {
		return http.StatusBadGateway, []byte("no --node URL for this graph node")
	}
	req, err := http.NewRequest("POST", url, bytes.NewBuffer(body))
	if err != nil {
		return http.StatusInternalServerError, []byte(err.Error())
	}
	for k, vs := range in {
		if k == "Content-Length" {
			continue
		}
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Content-Type", "application/json")
	if opentracing.IsGlobalTracerRegistered() {
		tracer := opentracing.GlobalTracer()
		opts := []opentracing.StartSpanOption{}
		if parent := opentracing.SpanFromContext(ctx); parent != nil {
			opts = append(opts, opentracing.ChildOf(parent.Context()))
		}
		clientSpan := opentracing.StartSpan(path, opts...)
		defer clientSpan.Finish()
		_ = tracer.Inject(clientSpan.Context(), opentracing.HTTPHeaders, opentracing.HTTPHeadersCarrier(req.Header))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return failure(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// failure is the executor's answer when a graph node cannot be reached
// (executor/api/rest/server.go respondWithError with no payload, and client.go
// CreateErrorPayload): HTTP 500 and a SeldonMessage whose status carries code 500, the error's
// text as info and FAILURE, as jsonpb writes it (zero fields left out). A node that answers
// with another status is passed on with its status and body, as doHttp's httpStatusError does.
func failure(err error) (int, []byte) {
	msg := map[string]any{"status": map[string]any{
		"code": http.StatusInternalServerError, "info": err.Error(), "status": "FAILURE",
	}}
	b, _ := json.Marshal(msg)
	return http.StatusInternalServerError, b
}
