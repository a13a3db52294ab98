package main

// The executor's gRPC path, as v1.18.2 has it, for the seldon protocol:
//   - executor/api/grpc/server.go CreateGrpcServer: when a global tracer is registered, the
//     unary server interceptor of go-grpc-middleware v1.3.0's tracing/opentracing (a server
//     span named after the full method, "/seldon.protos.Seldon/Predict", joined to the context
//     extracted from the incoming metadata through the tracer's HTTPHeaders format, so the B3
//     propagator applies to gRPC metadata too);
//   - executor/api/grpc/seldon/server.go Predict: grpc.CollectMetadata (the incoming metadata)
//     goes with every call the predictor process makes;
//   - executor/api/grpc/client.go AddClientInterceptors and seldon/client.go: one connection per
//     node, the same package's unary client interceptor when a tracer is registered, and
//     AddMetadataToOutgoingGrpcContext appending every incoming metadata pair to the outgoing
//     context before the interceptor injects the client span's context (replacing the trace
//     keys it writes). Methods /seldon.protos.Model/Predict, Transformer/TransformInput,
//     Combiner/Aggregate (a SeldonMessageList of the children's answers) and
//     OutputTransformer/TransformOutput;
//   - an error from a node ends the request with that error, as Predict returns it.
//
// Messages are passed through as bytes (a codec that neither parses nor builds them): only the
// aggregate's SeldonMessageList is assembled, field 1 repeated. Not reproduced: the metrics
// interceptors, Seldon-Puid, reflection, message size limits, and REST in with gRPC out or the
// reverse (a node reached over the other transport answers 500).

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"

	grpc_middleware "github.com/grpc-ecosystem/go-grpc-middleware"
	grpc_opentracing "github.com/grpc-ecosystem/go-grpc-middleware/tracing/opentracing"
	"github.com/opentracing/opentracing-go"
	jaeger "github.com/uber/jaeger-client-go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

// rawCodec carries messages as they are on the wire.
type rawCodec struct{}

type raw struct{ b []byte }

func (rawCodec) Marshal(v any) ([]byte, error) { return v.(*raw).b, nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	v.(*raw).b = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

// The method each REST path stands for.
var grpcMethods = map[string]string{
	"/predict":          "/seldon.protos.Model/Predict",
	"/transform-input":  "/seldon.protos.Transformer/TransformInput",
	"/transform-output": "/seldon.protos.OutputTransformer/TransformOutput",
	"/aggregate":        "/seldon.protos.Combiner/Aggregate",
}

// grpcCaller calls nodes over gRPC for one incoming request.
type grpcCaller struct {
	urls  nodeURLs
	conns *connections
	md    metadata.MD
	mu    sync.Mutex
	err   error
}

func (g *grpcCaller) call(ctx context.Context, n node, path string, msg []byte) (int, []byte) {
	fail := func(err error) (int, []byte) {
		g.mu.Lock()
		if g.err == nil {
			g.err = err
		}
		g.mu.Unlock()
		return http.StatusInternalServerError, nil
	}
	addr, ok := strings.CutPrefix(g.urls[n.Name], "grpc://")
	if !ok {
		return fail(fmt.Errorf("node %s has no grpc:// --node address", n.Name))
	}
	conn, err := g.conns.get(addr)
	if err != nil {
		return fail(err)
	}
	for k, vs := range g.md {
		for _, v := range vs {
			ctx = metadata.AppendToOutgoingContext(ctx, k, v)
		}
	}
	out := &raw{}
	if err := conn.Invoke(ctx, grpcMethods[path], &raw{msg}, out, grpc.ForceCodec(rawCodec{})); err != nil {
		return fail(err)
	}
	return http.StatusOK, out.b
}

func (g *grpcCaller) list(outs [][]byte) []byte {
	var b []byte
	for _, o := range outs {
		b = append(b, 0x0a)
		for n := uint64(len(o)); ; n >>= 7 {
			if n < 0x80 {
				b = append(b, byte(n))
				break
			}
			b = append(b, byte(n)|0x80)
		}
		b = append(b, o...)
	}
	return b
}

// connections keeps one client connection per node address.
type connections struct {
	mu sync.Mutex
	m  map[string]*grpc.ClientConn
}

func (c *connections) get(addr string) (*grpc.ClientConn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if conn, ok := c.m[addr]; ok {
		return conn, nil
	}
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if opentracing.IsGlobalTracerRegistered() {
		opts = append(opts, grpc.WithUnaryInterceptor(grpc_middleware.ChainUnaryClient(grpc_opentracing.UnaryClientInterceptor())))
	}
	conn, err := grpc.Dial(addr, opts...)
	if err != nil {
		return nil, err
	}
	c.m[addr] = conn
	return conn, nil
}

type seldonServer struct {
	graph node
	urls  nodeURLs
	conns *connections
}

func (s *seldonServer) predict(ctx context.Context, in *raw) (*raw, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	g := &grpcCaller{urls: s.urls, conns: s.conns, md: md}
	_, out := walk(ctx, s.graph, g, in.b)
	if span := opentracing.SpanFromContext(ctx); span != nil {
		if sc, ok := span.Context().(jaeger.SpanContext); ok {
			fmt.Printf("trace %s sampled=%t\n", sc.TraceID().String(), sc.IsSampled())
		} else {
			fmt.Println("trace none")
		}
	} else {
		fmt.Println("trace none")
	}
	if g.err != nil {
		return nil, g.err
	}
	return &raw{out}, nil
}

func predictHandler(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
	in := &raw{}
	if err := dec(in); err != nil {
		return nil, err
	}
	handler := func(ctx context.Context, req any) (any, error) {
		return srv.(*seldonServer).predict(ctx, req.(*raw))
	}
	if interceptor == nil {
		return handler(ctx, in)
	}
	info := &grpc.UnaryServerInfo{Server: srv, FullMethod: "/seldon.protos.Seldon/Predict"}
	return interceptor(ctx, in, info, handler)
}

var seldonService = grpc.ServiceDesc{
	ServiceName: "seldon.protos.Seldon",
	HandlerType: (*any)(nil),
	Methods:     []grpc.MethodDesc{{MethodName: "Predict", Handler: predictHandler}},
	Metadata:    "prediction.proto",
}

// newGrpcServer is the executor's gRPC server for graph g.
func newGrpcServer(g node, urls nodeURLs) *grpc.Server {
	opts := []grpc.ServerOption{grpc.ForceServerCodec(rawCodec{})}
	if opentracing.IsGlobalTracerRegistered() {
		opts = append(opts, grpc.UnaryInterceptor(grpc_middleware.ChainUnaryServer(grpc_opentracing.UnaryServerInterceptor())))
	}
	s := grpc.NewServer(opts...)
	s.RegisterService(&seldonService, &seldonServer{graph: g, urls: urls, conns: &connections{m: map[string]*grpc.ClientConn{}}})
	return s
}
