// The pipeline path of Seldon Core 2, for the `verify --core v2 --pipeline` tests: stand-ins of
// the pipeline gateway and the model gateway of seldon-core v2.10.2 (read: scheduler/pkg/kafka/
// pipeline and scheduler/pkg/kafka/gateway), and a routing-only stand-in of the dataflow engine.
// They run on the OpenTelemetry Go SDK v1.37.0, otelmux and otelgrpc v0.62.0 (scheduler/go.mod's
// pins) and a real Kafka broker. Seldon's Kafka client is confluent-kafka-go (librdkafka, cgo)
// with splunkkafka's message carrier; here it is franz-go, with a carrier that behaves as
// splunkkafka v1.26.0's: Get returns the first header of the key, Set removes every header of the
// key and appends one.
//
// `core2-tracer pipelinegateway` reproduces:
//   - httpserver.go: a gorilla/mux router with otelmux.Middleware("pipelinegateway") (installed
//     whatever the setting), POST /v2/models/{model}/infer and /v2/pipelines/{model}/infer; the
//     resource from the last `seldon-internal-model`, else `seldon-model` (NAME.pipeline a
//     pipeline, NAME or NAME.model a model; 400 otherwise); the JSON body turned into a
//     ModelInferRequest (oip.go; 400 when it does not convert); 500 with no body when Infer
//     fails; the answer's x-* headers and `x-request-id` (the composite key) on the response; an
//     error record answered 400 with "<error> : <payload>"; else the response as JSON;
//   - kafkamanager.go Infer: the pipeline must have been loaded (here: --pipeline at start, as
//     the scheduler loads it), else "pipeline NAME not found"; up to 10 s for the outputs
//     consumer's partitions ("timed out waiting for partitions to be assigned to consumer for
//     pipeline NAME"); the record to `<prefix>.<ns>.pipeline.NAME.inputs` (or
//     `….model.NAME.inputs`) on one of those partitions, key "<partition>.<resource>.<request
//     id>", the request's x-* headers plus `pipeline: NAME` and `x-request-id` when missing,
//     under a span "Produce" of tracer "KafkaManager" (attribute x-request-id, ended on the
//     delivery report) whose context is injected into the record's headers;
//   - multi_topic_consumer.go: the outputs topic in a consumer group; a record whose key a
//     request waits for gets a span "Consume" under the context extracted from its headers, and
//     answers the request (an error header `seldon-pipeline-errors` makes it an error).
//
// `core2-tracer modelgateway` reproduces infer.go's Serve and worker.go: the consumer group on
// `….model.NAME.inputs` of each --model; per record, under the context extracted from its
// headers, a span "Consume" and a span "WaitForWorker" (tracer "Worker", attribute x-request-id),
// the first ended when the job is queued, the second when a worker takes it; the worker extracts
// the context again and, for a record without `seldon-infer-type` that parses as a protobuf
// message, calls ModelInfer over gRPC (otelgrpc.NewClientHandler) with model_name NAME and
// model_version "1", the record's x-* headers but x-seldon-route and `seldon-model: NAME` as
// metadata; the answer (or the error, to `<prefix>.<ns>.errors.errors` with header
// `seldon-pipeline-errors: NAME`) is produced to `….model.NAME.outputs` on the input's partition
// with its key, the record's headers plus the answer's x-* headers and trailers, under a span
// "Produce" whose context is injected. Left out: the REST path (records with a type header or
// that do not parse; the pipeline gateway sends protobuf), TLS, the schema registry, retries.
//
// `core2-tracer dataflow` stands in for the dataflow engine (Kotlin, Kafka Streams, the
// OpenTelemetry Java agent) of a one-step pipeline, routing only and making no span: each
// --pipeline NAME=MODEL copies records (key, value, headers, partition) from the pipeline's
// inputs to the model's inputs, from the model's outputs to the pipeline's outputs, and error
// records of the model to the pipeline's outputs. The engine's own spans, tensor renaming and
// multi-step joins are left out, so the verdict never judges the engine.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/mux"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gorilla/mux/otelmux"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

const (
	requestIdHeader      = "x-request-id"
	pipelineHeader       = "pipeline"
	topicErrorHeader     = "seldon-pipeline-errors"
	externalHeaderPrefix = "x-"
	seldonRouteHeader    = "x-seldon-route"
	inferTypeHeader      = "seldon-infer-type"
	modelInferMethod     = "/inference.GRPCInferenceService/ModelInfer"
)

// recordCarrier is splunkkafka's textMapCarrier over a franz-go record.
type recordCarrier struct{ r *kgo.Record }

func (c recordCarrier) Get(key string) string {
	for _, h := range c.r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

func (c recordCarrier) Set(key, value string) {
	for i := len(c.r.Headers) - 1; i >= 0; i-- {
		if c.r.Headers[i].Key == key {
			c.r.Headers = append(c.r.Headers[:i], c.r.Headers[i+1:]...)
		}
	}
	c.r.Headers = append(c.r.Headers, kgo.RecordHeader{Key: key, Value: []byte(value)})
}

func (c recordCarrier) Keys() []string {
	out := make([]string, len(c.r.Headers))
	for i, h := range c.r.Headers {
		out[i] = h.Key
	}
	return out
}

func extracted(r *kgo.Record) context.Context {
	return otel.GetTextMapPropagator().Extract(context.Background(), recordCarrier{r})
}

// topics is topics.go's TopicNamer.
type topics struct{ prefix, namespace string }

func (t topics) join(parts ...string) string {
	return strings.Join(append([]string{t.prefix, t.namespace}, parts...), ".")
}
func (t topics) modelInputs(m string) string     { return t.join("model", m, "inputs") }
func (t topics) modelOutputs(m string) string    { return t.join("model", m, "outputs") }
func (t topics) pipelineInputs(p string) string  { return t.join("pipeline", p, "inputs") }
func (t topics) pipelineOutputs(p string) string { return t.join("pipeline", p, "outputs") }
func (t topics) errors() string                  { return t.join("errors", "errors") }

func requestId() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func header(r *kgo.Record, key string) (string, bool) {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value), true
		}
	}
	return "", false
}

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

// common are the flags every Kafka stand-in takes; setup loads tracing.json and makes the
// provider under `service`.
type common struct {
	config, brokers, namespace, prefix *string
}

func commonFlags(fs *flag.FlagSet) common {
	return common{
		config:    fs.String("tracing-config-path", "", "the tracing.json file (ConfigMap seldon-tracing)"),
		brokers:   fs.String("brokers", "127.0.0.1:9092", "Kafka bootstrap servers"),
		namespace: fs.String("namespace", "seldon-mesh", "the runtime's namespace (in topic names)"),
		prefix:    fs.String("topic-prefix", "seldon", "kafka.topicPrefix"),
	}
}

func (c common) setup(service string) (trace.TracerProvider, func()) {
	config, err := loadConfig(*c.config)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tp, shutdown, err := provider(config, service)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	return tp, shutdown
}

func (c common) topics() topics { return topics{prefix: *c.prefix, namespace: *c.namespace} }

func (c common) client(opts ...kgo.Opt) *kgo.Client {
	base := []kgo.Opt{
		kgo.SeedBrokers(strings.Split(*c.brokers, ",")...),
		kgo.AllowAutoTopicCreation(),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(0),
	}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	return cl
}

// untilSignal runs poll until SIGTERM/SIGINT, then closes the client and shuts the provider down.
func untilSignal(cl *kgo.Client, shutdown func(), poll func(ctx context.Context)) {
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer cancel()
	go poll(ctx)
	<-ctx.Done()
	cl.Close()
	shutdown()
}

// pollRecords hands each record the client fetches to `each` until ctx ends; once `ready` is
// closed (partitions assigned) it says `line` on stdout, which the tests wait for.
func pollRecords(ctx context.Context, cl *kgo.Client, ready <-chan struct{}, line string, each func(*kgo.Record)) {
	if ready != nil {
		go func() {
			select {
			case <-ready:
				fmt.Println(line)
			case <-ctx.Done():
			}
		}()
	}
	for {
		fetches := cl.PollFetches(ctx)
		if fetches.IsClientClosed() || ctx.Err() != nil {
			return
		}
		fetches.EachRecord(each)
	}
}

// ---- pipeline gateway ----

type pending struct {
	done     chan struct{}
	once     sync.Once
	response []byte
	headers  []kgo.RecordHeader
	err      error
}

type gateway struct {
	cl         *kgo.Client
	tracer     trace.Tracer
	topics     topics
	loaded     map[string]bool
	mu         sync.Mutex
	partitions map[string][]int32
	ready      chan struct{}
	requests   sync.Map
}

func resourceFromHeaders(r *http.Request) (string, bool, error) {
	name := r.Header.Get(seldonModelHeader)
	if internal := r.Header.Values(seldonInternalModelHeader); len(internal) > 0 {
		name = internal[len(internal)-1]
	}
	parts := strings.Split(name, ".")
	switch {
	case len(parts) == 1 && parts[0] != "":
		return parts[0], true, nil
	case len(parts) == 2 && parts[1] == "model":
		return parts[0], true, nil
	case len(parts) == 2 && parts[1] == "pipeline":
		return parts[0], false, nil
	}
	return "", false, fmt.Errorf("Bad or missing header %s %s", seldonModelHeader, name)
}

func (g *gateway) outputs(resource string, isModel bool) string {
	if isModel {
		return g.topics.modelOutputs(resource)
	}
	return g.topics.pipelineOutputs(resource)
}

func (g *gateway) infer(ctx context.Context, resource string, isModel bool, data []byte, headers []kgo.RecordHeader, reqId string) (*pending, string, error) {
	if !isModel && !g.loaded[resource] {
		return nil, "", fmt.Errorf("pipeline %s not found", resource)
	}
	outputs := g.outputs(resource, isModel)
	g.mu.Lock()
	parts := g.partitions[outputs]
	g.mu.Unlock()
	if len(parts) == 0 {
		select {
		case <-g.ready:
		case <-time.After(10 * time.Second):
			return nil, "", fmt.Errorf("timed out waiting for partitions to be assigned to consumer for pipeline %s", resource)
		}
		g.mu.Lock()
		parts = g.partitions[outputs]
		g.mu.Unlock()
		if len(parts) == 0 {
			return nil, "", fmt.Errorf("no partitions available for consumer for pipeline %s", resource)
		}
	}
	n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(parts))))
	partition := parts[n.Int64()]
	key := fmt.Sprintf("%d.%s.%s", partition, resource, reqId)
	req := &pending{done: make(chan struct{})}
	g.requests.Store(key, req)
	defer g.requests.Delete(key)

	input := g.topics.pipelineInputs(resource)
	if isModel {
		input = g.topics.modelInputs(resource)
	}
	headers = append(headers, kgo.RecordHeader{Key: pipelineHeader, Value: []byte(resource)})
	if _, ok := header(&kgo.Record{Headers: headers}, requestIdHeader); !ok {
		headers = append(headers, kgo.RecordHeader{Key: requestIdHeader, Value: []byte(reqId)})
	}
	rec := &kgo.Record{Topic: input, Partition: partition, Key: []byte(key), Value: data, Headers: headers}
	spanCtx, span := g.tracer.Start(ctx, "Produce")
	span.SetAttributes(attribute.String(requestIdHeader, reqId))
	otel.GetTextMapPropagator().Inject(spanCtx, recordCarrier{rec})
	g.cl.Produce(context.Background(), rec, func(_ *kgo.Record, err error) {
		if err != nil {
			fmt.Fprintln(os.Stderr, "produce:", err)
		}
		span.End()
	})
	select {
	case <-req.done:
		return req, key, nil
	case <-ctx.Done():
		return nil, "", ctx.Err()
	}
}

func (g *gateway) consume(ctx context.Context) {
	pollRecords(ctx, g.cl, nil, "", func(r *kgo.Record) {
		v, ok := g.requests.Load(string(r.Key))
		if !ok {
			return
		}
		_, span := g.tracer.Start(extracted(r), "Consume")
		id, _ := header(r, requestIdHeader)
		span.SetAttributes(attribute.String(requestIdHeader, id))
		req := v.(*pending)
		req.once.Do(func() {
			if e, ok := header(r, topicErrorHeader); ok {
				req.err = fmt.Errorf("%s", e)
			}
			req.response = r.Value
			req.headers = r.Headers
			close(req.done)
		})
		span.End()
	})
}

func (g *gateway) serveInfer(w http.ResponseWriter, r *http.Request) {
	if id := r.Header.Get(requestIdHeader); id != "" {
		trace.SpanFromContext(r.Context()).SetAttributes(attribute.String(requestIdHeader, id))
	}
	resource, isModel, err := resourceFromHeaders(r)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	proto, err := requestToProto(data)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	var headers []kgo.RecordHeader
	for k, vals := range r.Header {
		key := strings.ToLower(k)
		if strings.HasPrefix(key, externalHeaderPrefix) {
			for _, v := range vals {
				headers = append(headers, kgo.RecordHeader{Key: key, Value: []byte(v)})
			}
		}
	}
	reqId := r.Header.Get(requestIdHeader)
	if reqId == "" {
		reqId = requestId()
	}
	req, key, err := g.infer(r.Context(), resource, isModel, proto, headers, reqId)
	if err != nil {
		fmt.Fprintln(os.Stderr, "Failed to call infer:", err)
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Header().Set(requestIdHeader, key)
	for _, h := range req.headers {
		if strings.HasPrefix(strings.ToLower(h.Key), externalHeaderPrefix) {
			w.Header().Add(h.Key, string(h.Value))
		}
	}
	if req.err != nil {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write(append([]byte(req.err.Error()+" : "), req.response...))
		return
	}
	out, err := responseToJSON(req.response)
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	_, _ = w.Write(out)
}

func pipelineGatewayMain(args []string) {
	fs := flag.NewFlagSet("pipelinegateway", flag.ExitOnError)
	c := commonFlags(fs)
	listen := fs.String("listen", "127.0.0.1:0", "the gateway's HTTP address")
	var pipelines list
	fs.Var(&pipelines, "pipeline", "a pipeline the scheduler has loaded, repeated")
	_ = fs.Parse(args)
	tp, shutdown := c.setup("seldon-pipelinegateway")
	g := &gateway{
		tracer:     tp.Tracer("KafkaManager"),
		topics:     c.topics(),
		loaded:     map[string]bool{},
		partitions: map[string][]int32{},
		ready:      make(chan struct{}),
	}
	var outputs []string
	for _, p := range pipelines {
		g.loaded[p] = true
		outputs = append(outputs, g.topics.pipelineOutputs(p))
	}
	var once sync.Once
	g.cl = c.client(
		kgo.ConsumerGroup("seldon-pipelinegateway-"+*c.namespace),
		kgo.ConsumeTopics(outputs...),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, assigned map[string][]int32) {
			g.mu.Lock()
			for t, ps := range assigned {
				g.partitions[t] = append(g.partitions[t], ps...)
			}
			g.mu.Unlock()
			once.Do(func() { close(g.ready) })
		}),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, revoked map[string][]int32) {
			g.mu.Lock()
			for t := range revoked {
				delete(g.partitions, t)
			}
			g.mu.Unlock()
		}),
	)
	router := mux.NewRouter()
	router.Use(otelmux.Middleware("pipelinegateway"))
	router.NewRoute().Path("/v2/models/{model}/infer").HandlerFunc(g.serveInfer)
	router.NewRoute().Path("/v2/pipelines/{model}/infer").HandlerFunc(g.serveInfer)
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	srv := &http.Server{Handler: router}
	go func() { _ = srv.Serve(ln) }()
	untilSignal(g.cl, shutdown, func(ctx context.Context) {
		go g.consume(ctx)
		<-ctx.Done()
		_ = srv.Close()
	})
}

// ---- model gateway ----

type work struct {
	model string
	rec   *kgo.Record
	span  trace.Span
}

type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

type worker struct {
	cl     *kgo.Client
	tracer trace.Tracer
	topics topics
	conn   *grpc.ClientConn
}

func (w *worker) produce(ctx context.Context, job *work, topic string, b []byte, isError bool, extra map[string][]string) {
	headers := append([]kgo.RecordHeader(nil), job.rec.Headers...)
	if isError {
		headers = append(headers, kgo.RecordHeader{Key: topicErrorHeader, Value: []byte(job.model)})
	}
	for k, vs := range extra {
		for _, v := range vs {
			exists := false
			for _, h := range headers {
				exists = exists || (h.Key == k && string(h.Value) == v)
			}
			if !exists {
				headers = append(headers, kgo.RecordHeader{Key: k, Value: []byte(v)})
			}
		}
	}
	rec := &kgo.Record{Topic: topic, Partition: job.rec.Partition, Key: job.rec.Key, Value: b, Headers: headers}
	spanCtx, span := w.tracer.Start(ctx, "Produce")
	id, _ := header(rec, requestIdHeader)
	span.SetAttributes(attribute.String(requestIdHeader, id))
	otel.GetTextMapPropagator().Inject(spanCtx, recordCarrier{rec})
	w.cl.Produce(context.Background(), rec, func(_ *kgo.Record, err error) {
		span.End()
		if err != nil {
			fmt.Fprintln(os.Stderr, "produce:", err)
		}
	})
}

func (w *worker) process(job *work, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(extracted(job.rec), timeout)
	defer cancel()
	if t, ok := header(job.rec, inferTypeHeader); ok {
		w.produce(ctx, job, w.topics.errors(), []byte("the stand-in does not reproduce the REST path ("+inferTypeHeader+": "+t+")"), true, nil)
		return
	}
	if !isMessage(job.rec.Value) {
		w.produce(ctx, job, w.topics.errors(), []byte("the stand-in does not reproduce the REST path (a JSON record)"), true, nil)
		return
	}
	// addMetadataToOutgoingContext: the record's x-* headers (collectHeaders keeps the last of
	// each key) but x-seldon-route, and seldon-model.
	last := map[string]string{}
	for _, h := range job.rec.Headers {
		last[h.Key] = string(h.Value)
	}
	for k, v := range last {
		if strings.HasPrefix(k, externalHeaderPrefix) && k != seldonRouteHeader {
			ctx = metadata.AppendToOutgoingContext(ctx, k, v)
		}
	}
	ctx = metadata.AppendToOutgoingContext(ctx, seldonModelHeader, job.model)
	req := withName(job.rec.Value, job.model, "1")
	var resp []byte
	var head, trailer metadata.MD
	err := w.conn.Invoke(ctx, modelInferMethod, &req, &resp, grpc.ForceCodec(rawCodec{}), grpc.Header(&head), grpc.Trailer(&trailer))
	if err != nil {
		w.produce(ctx, job, w.topics.errors(), []byte(err.Error()), true, nil)
		return
	}
	extra := map[string][]string{}
	for _, md := range []metadata.MD{head, trailer} {
		for k, v := range md {
			if strings.HasPrefix(k, externalHeaderPrefix) {
				extra[k] = v
			}
		}
	}
	w.produce(ctx, job, w.topics.modelOutputs(job.model), resp, false, extra)
}

func modelGatewayMain(args []string) {
	fs := flag.NewFlagSet("modelgateway", flag.ExitOnError)
	c := commonFlags(fs)
	inference := fs.String("inference", "", "HOST:PORT of the inference gRPC endpoint (the mesh in a cluster)")
	workers := fs.Int("workers", 4, "workers taking jobs")
	timeout := fs.Duration("worker-timeout", time.Minute, "a call's deadline")
	var models list
	fs.Var(&models, "model", "a model the scheduler has loaded, repeated")
	_ = fs.Parse(args)
	tp, shutdown := c.setup("seldon-modelgateway")
	t := c.topics()
	var inputs []string
	byTopic := map[string]string{}
	for _, m := range models {
		inputs = append(inputs, t.modelInputs(m))
		byTopic[t.modelInputs(m)] = m
	}
	conn, err := grpc.NewClient(*inference,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler()))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ready := make(chan struct{})
	var once sync.Once
	cl := c.client(
		kgo.ConsumerGroup("seldon-modelgateway-"+*c.namespace),
		kgo.ConsumeTopics(inputs...),
		kgo.OnPartitionsAssigned(func(context.Context, *kgo.Client, map[string][]int32) {
			once.Do(func() { close(ready) })
		}),
	)
	tracer := tp.Tracer("Worker")
	w := &worker{cl: cl, tracer: tracer, topics: t, conn: conn}
	jobs := make(chan *work, *workers)
	for i := 0; i < *workers; i++ {
		go func() {
			for job := range jobs {
				job.span.End()
				w.process(job, *timeout)
			}
		}()
	}
	untilSignal(cl, shutdown, func(ctx context.Context) {
		pollRecords(ctx, cl, ready, "consuming "+strings.Join(inputs, ","), func(r *kgo.Record) {
			model, ok := byTopic[r.Topic]
			if !ok {
				return
			}
			base := extracted(r)
			_, span := tracer.Start(base, "Consume")
			id, _ := header(r, requestIdHeader)
			span.SetAttributes(attribute.String(requestIdHeader, id))
			_, waiting := tracer.Start(base, "WaitForWorker")
			waiting.SetAttributes(attribute.String(requestIdHeader, id))
			jobs <- &work{model: model, rec: r, span: waiting}
			span.End()
		})
	})
}

// ---- dataflow engine (routing only) ----

func dataflowMain(args []string) {
	fs := flag.NewFlagSet("dataflow", flag.ExitOnError)
	c := commonFlags(fs)
	var given list
	fs.Var(&given, "pipeline", "NAME=MODEL, a one-step pipeline, repeated")
	_ = fs.Parse(args)
	t := c.topics()
	to := map[string]string{}
	errorsTo := map[string]string{}
	for _, p := range given {
		name, model, ok := strings.Cut(p, "=")
		if !ok {
			fmt.Fprintln(os.Stderr, "--pipeline wants NAME=MODEL, got", p)
			os.Exit(2)
		}
		to[t.pipelineInputs(name)] = t.modelInputs(model)
		to[t.modelOutputs(model)] = t.pipelineOutputs(name)
		errorsTo[name] = t.pipelineOutputs(name)
	}
	var from []string
	for k := range to {
		from = append(from, k)
	}
	from = append(from, t.errors())
	ready := make(chan struct{})
	var once sync.Once
	cl := c.client(
		kgo.ConsumerGroup("seldon-dataflow-engine-"+*c.namespace),
		kgo.ConsumeTopics(from...),
		kgo.OnPartitionsAssigned(func(context.Context, *kgo.Client, map[string][]int32) {
			once.Do(func() { close(ready) })
		}),
	)
	untilSignal(cl, func() {}, func(ctx context.Context) {
		pollRecords(ctx, cl, ready, fmt.Sprintf("routing %d pipelines", len(given)), func(r *kgo.Record) {
			dest, ok := to[r.Topic]
			if r.Topic == t.errors() {
				p, _ := header(r, pipelineHeader)
				dest, ok = errorsTo[p]
			}
			if !ok {
				return
			}
			out := &kgo.Record{Topic: dest, Partition: r.Partition, Key: r.Key, Value: r.Value, Headers: r.Headers}
			cl.Produce(context.Background(), out, func(_ *kgo.Record, err error) {
				if err != nil {
					fmt.Fprintln(os.Stderr, "produce:", err)
				}
			})
		})
	})
}
