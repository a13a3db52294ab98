// The agent's reverse proxy and the mesh's router, for the Seldon Core 2 verify tests.
//
// `core2-tracer rproxy` stands in for a Server's agent serving inference: the HTTP reverse proxy
// of scheduler/pkg/agent/rproxy.go at seldon-core v2.10.2 (read), on the OpenTelemetry Go SDK
// v1.37.0 and otelhttp v0.62.0 that scheduler/go.mod pins there. What it reproduces:
//   - the tracing set-up of the agent: tracing.json loaded and the provider made as the rest of
//     this command does (provider.go's loadConfig and recreateTracerProvider), service name
//     "seldon-agent"; the provider and propagators are global, which is where otelhttp reads them;
//   - the handler (addHandlers): otelhttp.NewHandler(..., "seldon-rproxy") around a function that
//     sets the request's Host to its URL's host (rewriteHostHandler), reads the
//     `seldon-internal-model` header and the model name before its `_<version>` suffix
//     (util.GetOrignalModelNameAndVersion; on a malformed name, the `seldon-model` header), proxies
//     unchanged when either is empty, else rewrites /v2/models/<name>[/versions/<v>]... to the
//     internal name (rewritePath) and proxies;
//   - the proxy: httputil.NewSingleHostReverseProxy to the inference server, whose Transport is a
//     plain http.Transport under lazyModelLoadTransport: no otelhttp client span, and the
//     incoming headers (the caller's traceparent among them) go on to the server as they came.
//   - with --grpc-listen, the gRPC reverse proxy of rproxy_grpc.go: a server with
//     otelgrpc.NewServerHandler() (one server span per call), ModelInfer only: the internal and
//     external names from the `seldon-internal-model` and `seldon-model` metadata
//     (extractModelNamesFromHeaders; FailedPrecondition when either is missing), model_name set
//     to the internal name and model_version to "", the incoming metadata as the outgoing one plus
//     `x-request-id` (the incoming one, else a new one), the call to the inference server through
//     a client with otelgrpc.NewClientHandler() (oip.CreateV2GrpcConnection), whose client span
//     is MLServer's parent, and the server's trailers passed back with `x-request-id`. Messages go
//     through as bytes (oip.go sets the two fields).
//
// Left out, because no span or header depends on them: EnsureLoadModel and the lazy-load retry
// on 404/400 (the model is loaded in the test's MLServer before the request), the OpenAI
// translators, metrics, scaling statistics, the request-id response header and TLS.
//
// `core2-tracer route` stands in for the mesh's envoy, routing only (HTTP/1.1 and, for gRPC,
// HTTP/2 without TLS): v2.10.2 configures no
// tracing in envoy (scheduler/pkg/envoy has none), so it touches no trace header. Each --model
// NAME=INTERNAL@HOST:PORT is one route as scheduler/pkg/envoy/xdscache makes it for a model: path
// prefix /v2 and header `seldon-model` exactly NAME -> the Server's agent at HOST:PORT, with the
// request header `seldon-internal-model: INTERNAL` set (an incoming one removed); each
// --grpc-model NAME=INTERNAL@HOST:PORT the same for gRPC (path prefix
// /inference.GRPCInferenceService) to the agent's gRPC port. Anything else is 404 with an empty
// body, as envoy answers a request no route matches.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

const (
	seldonModelHeader         = "seldon-model"
	seldonInternalModelHeader = "seldon-internal-model"
)

// originalModelName is util.GetOrignalModelNameAndVersion's name part: the internal name is
// <model>_<version>.
func originalModelName(internal string) (string, error) {
	i := strings.LastIndex(internal, "_")
	if i < 0 {
		return "", fmt.Errorf("cannot extract model name and version from %s", internal)
	}
	return internal[:i], nil
}

// rewritePath is rproxy.go's rewritePath.
func rewritePath(path string, modelName string) string {
	re := regexp.MustCompile(`(/v2/models/)([\w\-]+)(/versions/\w+)?(.*)$`)
	return re.ReplaceAllString(path, fmt.Sprintf("${1}%s${4}", modelName))
}

func rproxyHandler(backend *url.URL) http.Handler {
	proxy := httputil.NewSingleHostReverseProxy(backend)
	proxy.Transport = &http.Transport{IdleConnTimeout: 60 * time.Second}
	return otelhttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Host = r.URL.Host
		internal := r.Header.Get(seldonInternalModelHeader)
		external, err := originalModelName(internal)
		if err != nil {
			external = r.Header.Get(seldonModelHeader)
		}
		if external == "" || internal == "" {
			proxy.ServeHTTP(w, r)
			return
		}
		r.URL.Path = rewritePath(r.URL.Path, internal)
		proxy.ServeHTTP(w, r)
	}), "seldon-rproxy")
}

// serve listens, says so on stdout (one line, the address), and serves until SIGTERM/SIGINT;
// then the tracer provider is shut down, flushing what the batch holds.
func serve(listen string, h http.Handler, shutdown func()) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	srv := &http.Server{Handler: h, Protocols: h2c()}
	go func() {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
		<-stop
		srv.Close()
	}()
	_ = srv.Serve(ln)
	shutdown()
}

func rproxyMain(args []string) {
	fs := flag.NewFlagSet("rproxy", flag.ExitOnError)
	path := fs.String("tracing-config-path", "", "the tracing.json file (the agent mounts ConfigMap seldon-tracing)")
	listen := fs.String("listen", "127.0.0.1:0", "the agent's reverse proxy address")
	backend := fs.String("backend", "", "the inference server, HOST:PORT")
	grpcListen := fs.String("grpc-listen", "", "the agent's gRPC reverse proxy address (none: no gRPC proxy)")
	grpcBackend := fs.String("grpc-backend", "", "the inference server's gRPC HOST:PORT")
	_ = fs.Parse(args)
	config, err := loadConfig(*path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_, shutdown, err := provider(config, "seldon-agent")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if *grpcListen != "" {
		serveGrpc(*grpcListen, *grpcBackend)
	}
	serve(*listen, rproxyHandler(&url.URL{Scheme: "http", Host: *backend, Path: "/"}), shutdown)
}

type route struct {
	internal string
	proxy    *httputil.ReverseProxy
}

type models []string

func (m *models) String() string     { return strings.Join(*m, ",") }
func (m *models) Set(v string) error { *m = append(*m, v); return nil }

// routesOf reads each NAME=INTERNAL@HOST:PORT of `flagName` into a route to HOST:PORT.
func routesOf(flagName string, given models, proxy func(addr string) *httputil.ReverseProxy) map[string]route {
	routes := map[string]route{}
	for _, m := range given {
		name, rest, ok1 := strings.Cut(m, "=")
		internal, addr, ok2 := strings.Cut(rest, "@")
		if !ok1 || !ok2 {
			fmt.Fprintln(os.Stderr, flagName, "wants NAME=INTERNAL@HOST:PORT, got", m)
			os.Exit(2)
		}
		routes[name] = route{internal: internal, proxy: proxy(addr)}
	}
	return routes
}

func routeMain(args []string) {
	fs := flag.NewFlagSet("route", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "the mesh's HTTP address")
	var given, grpcGiven models
	fs.Var(&given, "model", "NAME=INTERNAL@HOST:PORT, repeated")
	fs.Var(&grpcGiven, "grpc-model", "NAME=INTERNAL@HOST:PORT of a gRPC route, repeated")
	_ = fs.Parse(args)
	httpRoute := func(addr string) *httputil.ReverseProxy {
		p := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: addr, Path: "/"})
		p.Transport = &http.Transport{IdleConnTimeout: 60 * time.Second}
		return p
	}
	routes := routesOf("--model", given, httpRoute)
	grpcRoutes := routesOf("--grpc-model", grpcGiven, grpcRoute)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt, ok := routes[r.Header.Get(seldonModelHeader)]
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc") {
			rt, ok = grpcRoutes[r.Header.Get(seldonModelHeader)]
			ok = ok && strings.HasPrefix(r.URL.Path, "/inference.GRPCInferenceService")
		} else {
			ok = ok && strings.HasPrefix(r.URL.Path, "/v2")
		}
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		r.Header.Del(seldonInternalModelHeader)
		r.Header.Set(seldonInternalModelHeader, rt.internal)
		rt.proxy.ServeHTTP(w, r)
	})
	serve(*listen, h, func() {})
}

// grpcProxy is rproxy_grpc.go's ModelInfer, over raw messages.
func grpcProxy(backend *grpc.ClientConn) grpc.StreamHandler {
	return func(_ any, stream grpc.ServerStream) error {
		method, _ := grpc.MethodFromServerStream(stream)
		if method != modelInferMethod {
			return status.Errorf(codes.Unimplemented, "the stand-in serves only %s", modelInferMethod)
		}
		var req []byte
		if err := stream.RecvMsg(&req); err != nil {
			return err
		}
		md, ok := metadata.FromIncomingContext(stream.Context())
		if !ok {
			md = metadata.MD{}
		}
		first := func(key string) string {
			if v := md.Get(key); len(v) > 0 {
				return v[0]
			}
			return ""
		}
		internal := first(seldonInternalModelHeader)
		external, err := originalModelName(internal)
		if err != nil {
			external = first(seldonModelHeader)
		}
		if internal == "" || external == "" {
			return status.Errorf(codes.FailedPrecondition, "Failed to extract model name %s:[%s] %s:[%s]", seldonInternalModelHeader, internal, seldonModelHeader, external)
		}
		req = withName(req, internal, "")
		id := first(requestIdHeader)
		if id == "" {
			id = requestId()
		}
		out := metadata.NewOutgoingContext(stream.Context(), md.Copy())
		out = metadata.AppendToOutgoingContext(out, requestIdHeader, id)
		var resp []byte
		var trailer metadata.MD
		err = backend.Invoke(out, modelInferMethod, &req, &resp, grpc.ForceCodec(rawCodec{}), grpc.Trailer(&trailer))
		if trailer == nil {
			trailer = metadata.MD{}
		}
		trailer.Set(requestIdHeader, id)
		stream.SetTrailer(trailer)
		if err != nil {
			return err
		}
		return stream.SendMsg(&resp)
	}
}

func serveGrpc(listen string, backend string) {
	conn, err := grpc.NewClient(backend,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler()))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv := grpc.NewServer(
		grpc.StatsHandler(otelgrpc.NewServerHandler()),
		grpc.ForceServerCodec(rawCodec{}),
		grpc.UnknownServiceHandler(grpcProxy(conn)),
	)
	go func() { _ = srv.Serve(ln) }()
}

// h2c lets one listener take HTTP/1.1 and HTTP/2 without TLS, as envoy's listener does.
func h2c() *http.Protocols {
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	return p
}

func grpcRoute(addr string) *httputil.ReverseProxy {
	p := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: addr, Path: "/"})
	protocols := new(http.Protocols)
	protocols.SetUnencryptedHTTP2(true)
	p.Transport = &http.Transport{Protocols: protocols}
	p.FlushInterval = -1
	return p
}
