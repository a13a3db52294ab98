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
// Left out, because no span or header depends on them: EnsureLoadModel and the lazy-load retry
// on 404/400 (the model is loaded in the test's MLServer before the request), the OpenAI
// translators, metrics, scaling statistics, the request-id response header and TLS.
//
// `core2-tracer route` stands in for the mesh's envoy, routing only: v2.10.2 configures no
// tracing in envoy (scheduler/pkg/envoy has none), so it touches no trace header. Each --model
// NAME=INTERNAL@HOST:PORT is one route as scheduler/pkg/envoy/xdscache makes it for a model: path
// prefix /v2 and header `seldon-model` exactly NAME -> the Server's agent at HOST:PORT, with the
// request header `seldon-internal-model: INTERNAL` set (an incoming one removed). Anything else is
// 404 with an empty body, as envoy answers a request no route matches.
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

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
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
	srv := &http.Server{Handler: h}
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
	serve(*listen, rproxyHandler(&url.URL{Scheme: "http", Host: *backend, Path: "/"}), shutdown)
}

type route struct {
	internal string
	proxy    *httputil.ReverseProxy
}

type models []string

func (m *models) String() string     { return strings.Join(*m, ",") }
func (m *models) Set(v string) error { *m = append(*m, v); return nil }

func routeMain(args []string) {
	fs := flag.NewFlagSet("route", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "the mesh's HTTP address")
	var given models
	fs.Var(&given, "model", "NAME=INTERNAL@HOST:PORT, repeated")
	_ = fs.Parse(args)
	routes := map[string]route{}
	for _, m := range given {
		name, rest, ok1 := strings.Cut(m, "=")
		internal, addr, ok2 := strings.Cut(rest, "@")
		if !ok1 || !ok2 {
			fmt.Fprintln(os.Stderr, "--model wants NAME=INTERNAL@HOST:PORT, got", m)
			os.Exit(2)
		}
		p := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: addr, Path: "/"})
		p.Transport = &http.Transport{IdleConnTimeout: 60 * time.Second}
		routes[name] = route{internal: internal, proxy: p}
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt, ok := routes[r.Header.Get(seldonModelHeader)]
		if !ok || !strings.HasPrefix(r.URL.Path, "/v2") {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		r.Header.Del(seldonInternalModelHeader)
		r.Header.Set(seldonInternalModelHeader, rt.internal)
		rt.proxy.ServeHTTP(w, r)
	})
	serve(*listen, h, func() {})
}
