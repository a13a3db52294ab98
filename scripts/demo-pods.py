#!/usr/bin/env python3
"""Runs one predictor's pods for `make demo` as local processes on 127.0.0.1, the way the e2e
tests do (tests/e2e/verify.rs): the Python components with the real Seldon Python wrapper and
the executor stand-in (tools/executor-tracer), each with the env its Deployment carries
(valueFrom status.hostIP = 127.0.0.1) and the executor with its pod's hostname. Spans go to
the harness's Jaeger v2: what a pod sends to its node's agent on 6831 goes to Jaeger v2's
compact port here (26831, scripts/harness). kwok PortForward objects lead the executor pod's
port 8000, and a Jaeger query Service's pod's port 16686 (Jaeger v2's 26686), to these
processes, so the plugin reaches them through the real kube-apiserver. For a SeldonDeployment
whose transport is grpc, the executor also serves gRPC (the pod's port 5001) and calls the
components' gRPC servers, as in tests/e2e/verify.rs.

    demo-pods.py up KUBECONFIG NAMESPACE SDEP HARNESS_BIN WORKDIR   start; PIDs in WORKDIR/pids
                 (DEMO_PODS_JAEGER=v1: the harness's Jaeger 1.62 on its own ports instead)
    demo-pods.py model-up KUBECONFIG NAMESPACE MODEL HARNESS_BIN WORKDIR
                 a Seldon Core 2 Model's path, as tests/e2e/verify2.rs runs it: the real MLServer
                 1.7.1 serving tests/conformance/mlserver_echo.py as MODEL_1, the agent's reverse
                 proxy and envoy's routing (tools/core2-tracer rproxy, route), the agent reading
                 ConfigMap seldon-tracing's tracing.json; envoy's pod port 9000 led to the router.
                 The OTLP endpoints (the runtime's, MLSERVER_TRACING_SERVER) go to the chosen
                 Jaeger's OTLP/gRPC port here, as a collector would forward them
    demo-pods.py pipeline-up KUBECONFIG NAMESPACE PIPELINE HARNESS_BIN WORKDIR
                 a one-step Pipeline's path, as tests/e2e/pipeline2.rs runs it: model-up for its
                 step's Model, the agent with its gRPC proxy too, and the pipeline gateway, the
                 model gateway and the dataflow engine's router (tools/core2-tracer) on the
                 harness's Kafka (127.0.0.1:29092, topics of NAMESPACE)
    demo-pods.py model-traffic WORKDIR N                            N traced requests to the Model
    demo-pods.py traffic WORKDIR N                                  N prediction requests
    demo-pods.py down WORKDIR                                       stop what `up` started
"""

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request


def kubectl(kubeconfig, *args, stdin=None):
    out = subprocess.run(["kubectl", "--kubeconfig", kubeconfig, *args], input=stdin,
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"demo-pods: kubectl {' '.join(args)} failed: {out.stderr.strip()}")
    return out.stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The harness's Jaegers (scripts/harness): v2.12 on its own ports (JAEGER2_PORTS), 1.62 on the
# standard ones. Query port, compact (UDP agent) port.
JAEGERS = {"v2": (26686, 26831, 24317), "v1": (16686, 6831, 4317)}
JAEGER_QUERY, JAEGER_COMPACT, JAEGER_OTLP = JAEGERS[os.environ.get("DEMO_PODS_JAEGER", "v2")]


def env_of(container):
    env = {}
    for e in container.get("env") or []:
        if "value" in e:
            env[e["name"]] = e["value"]
        elif (e.get("valueFrom") or {}).get("fieldRef", {}).get("fieldPath") == "status.hostIP":
            env[e["name"]] = "127.0.0.1"
    # The node's agent port is the chosen Jaeger's compact receiver here.
    if env.get("JAEGER_AGENT_PORT") == "6831":
        env["JAEGER_AGENT_PORT"] = str(JAEGER_COMPACT)
    return env


def wait_port(port, proc, what):
    for _ in range(300):
        if proc.poll() is not None:
            sys.exit(f"demo-pods: {what} exited at start")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"demo-pods: {what} did not start")


def up(kubeconfig, ns, sdep, harness, work):
    os.makedirs(work, exist_ok=True)
    deps = json.loads(kubectl(kubeconfig, "get", "deploy", "-n", ns, "-l",
                              f"seldon-deployment-id={sdep}", "-o", "json"))["items"]
    containers = [c for d in deps for c in d["spec"]["template"]["spec"]["containers"]]
    engine = next(c for c in containers if c["name"] == "seldon-container-engine")
    predictor = json.loads(base64.b64decode(env_of(engine)["ENGINE_PREDICTOR"]))
    pname = predictor["name"]
    types = {}
    stack = [predictor.get("graph") or {}]
    while stack:
        node = stack.pop()
        types[node.get("name")] = node.get("type") or "MODEL"
        stack.extend(node.get("children") or [])
    transport = json.loads(kubectl(kubeconfig, "get", "sdep", sdep, "-n", ns, "-o", "json"))[
        "spec"].get("transport", "rest")
    grpc = transport == "grpc"
    pods = json.loads(kubectl(kubeconfig, "get", "pods", "-n", ns, "-l",
                              f"seldon-app={sdep}-{pname}", "-o", "json"))["items"]
    pod = next(p["metadata"]["name"] for p in pods
               if any(c["name"] == "seldon-container-engine" for c in p["spec"]["containers"])
               and not p["metadata"].get("deletionTimestamp"))
    pids, nodes = [], []
    for c in containers:
        if c["name"] == "seldon-container-engine":
            continue
        cls = "".join(w.capitalize() for w in c["name"].replace("_", "-").split("-"))
        with open(os.path.join(work, f"{cls}.py"), "w") as f:
            f.write(f"class {cls}:\n    def predict(self, X, features_names=None):\n        return X\n")
        port, grpc_port = free_port(), free_port()
        proc = subprocess.Popen(
            [os.path.join(harness, "venv/bin/seldon-core-microservice"), cls, "--service-type",
             types.get(c["name"], "MODEL"), "--http-port", str(port), "--grpc-port", str(grpc_port),
             "--metrics-port", str(free_port())],
            cwd=work, env={"PATH": os.path.join(harness, "venv/bin"), **env_of(c)},
            stdout=open(os.path.join(work, f"{cls}.log"), "w"), stderr=subprocess.STDOUT,
            start_new_session=True)
        pids.append(proc.pid)
        wait_port(port, proc, f"the Python wrapper for {c['name']}")
        if grpc:
            wait_port(grpc_port, proc, f"the Python wrapper's gRPC server for {c['name']}")
            nodes += ["--node", f"{c['name']}=grpc://127.0.0.1:{grpc_port}"]
        else:
            nodes += ["--node", f"{c['name']}=http://127.0.0.1:{port}"]
    port, grpc_port = free_port(), free_port()
    serve_grpc = ["--grpc-listen", f"127.0.0.1:{grpc_port}"] if grpc else []
    executor = subprocess.Popen(
        ["unshare", "-u", "sh", "-c", 'hostname "$0" && exec "$@"', pod,
         os.path.join(harness, "executor-tracer"), "--listen", f"127.0.0.1:{port}", *serve_grpc,
         *nodes],
        env=env_of(engine), stdout=open(os.path.join(work, "executor.log"), "w"),
        stderr=subprocess.STDOUT, start_new_session=True)
    pids.append(executor.pid)
    wait_port(port, executor, "the executor stand-in")
    if grpc:
        wait_port(grpc_port, executor, "the executor stand-in's gRPC server")
    with_jaeger(kubeconfig, ns, [forward(ns, pod, 8000, port, *((5001, grpc_port) if grpc else ()))])
    with open(os.path.join(work, "pids"), "w") as f:
        f.write("\n".join(map(str, pids)))
    with open(os.path.join(work, "executor-port"), "w") as f:
        f.write(str(port))


def forward(ns, pod, *pairs):
    """A kwok PortForward: each (pod port, local port) pair of `pairs`."""
    return {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "PortForward",
            "metadata": {"name": pod, "namespace": ns},
            "spec": {"forwards": [{"ports": [pod_port], "target": {"address": "127.0.0.1", "port": to}}
                                  for pod_port, to in zip(pairs[::2], pairs[1::2])]}}


def with_jaeger(kubeconfig, ns, objects):
    """Applies `objects` with a Jaeger query Service in `ns` whose pod leads to the chosen
    Jaeger, and waits for that pod."""
    jaeger = [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "jaeger-query", "namespace": ns},
         "spec": {"selector": {"app": "jaeger"},
                  "ports": [{"name": "http-query", "port": 16686, "targetPort": 16686}]}},
        {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": "jaeger-0", "namespace": ns, "labels": {"app": "jaeger"}},
         "spec": {"nodeName": "kwok-node-0", "automountServiceAccountToken": False,
                  "containers": [{"name": "jaeger", "image": "jaegertracing/jaeger:2.12.0",
                                  "ports": [{"containerPort": 16686}]}]}},
        forward(ns, "jaeger-0", 16686, JAEGER_QUERY),
    ]
    kubectl(kubeconfig, "apply", "-f", "-",
            stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": jaeger + objects}))
    kubectl(kubeconfig, "wait", "--for=condition=Ready", "pod/jaeger-0", "-n", ns, "--timeout=60s")


def ready_pod(kubeconfig, ns, selector):
    """The name of a ready pod of `ns` matching `selector`, waiting up to a minute."""
    for _ in range(300):
        pods = json.loads(kubectl(kubeconfig, "get", "pods", "-n", ns, "-l", selector, "-o", "json"))["items"]
        for p in pods:
            ready = any(c["type"] == "Ready" and c["status"] == "True"
                        for c in (p.get("status") or {}).get("conditions") or [])
            if ready and not p["metadata"].get("deletionTimestamp"):
                return p["metadata"]["name"]
        time.sleep(0.2)
    sys.exit(f"demo-pods: no ready pod {selector} in {ns}")


KAFKA = "127.0.0.1:29092"  # scripts/harness KAFKA_PORT


def start(work, name, argv, env=None, cwd=None):
    proc = subprocess.Popen(argv, cwd=cwd or work, env=env,
                            stdout=subprocess.PIPE if name in ("agent", "router", "pipelinegateway",
                                                               "modelgateway", "dataflow") else
                            open(os.path.join(work, f"{name}.log"), "w"),
                            stderr=open(os.path.join(work, f"{name}.err"), "w"),
                            start_new_session=True, text=True)
    return proc


def pipeline_up(kubeconfig, ns, pipeline, harness, work):
    obj = json.loads(kubectl(kubeconfig, "get", "pipelines.mlops.seldon.io", pipeline, "-n", ns, "-o", "json"))
    model_up(kubeconfig, ns, obj["spec"]["steps"][0]["name"], harness, work, pipeline=pipeline)


def model_up(kubeconfig, ns, model, harness, work, pipeline=None):
    os.makedirs(work, exist_ok=True)
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    obj = json.loads(kubectl(kubeconfig, "get", "models.mlops.seldon.io", model, "-n", ns, "-o", "json"))
    server = obj["spec"]["server"]
    # The operator (stand-in) may not have made the Server's StatefulSet and the ConfigMap yet.
    for _ in range(300):
        made = subprocess.run(["kubectl", "--kubeconfig", kubeconfig, "get", "statefulset/" + server,
                               "configmap/seldon-tracing", "-n", ns], capture_output=True)
        if made.returncode == 0:
            break
        time.sleep(0.2)
    sts = json.loads(kubectl(kubeconfig, "get", "statefulset", server, "-n", ns, "-o", "json"))
    mls = next(c for c in sts["spec"]["template"]["spec"]["containers"] if c["name"] == "mlserver")
    cm = json.loads(kubectl(kubeconfig, "get", "configmap", "seldon-tracing", "-n", ns, "-o", "json"))
    setting = json.loads(cm["data"]["tracing.json"])
    if setting.get("otelExporterEndpoint"):
        setting["otelExporterEndpoint"] = f"127.0.0.1:{JAEGER_OTLP}"
    envoy = ready_pod(kubeconfig, ns, "app.kubernetes.io/name=seldon-envoy")
    ready_pod(kubeconfig, ns, f"seldon-server-name={server}")
    internal = f"{model}_1"
    models = os.path.join(work, "models")
    os.makedirs(os.path.join(models, internal), exist_ok=True)
    with open(os.path.join(repo, "tests/conformance/mlserver_echo.py")) as src, \
            open(os.path.join(models, internal, "mlserver_echo.py"), "w") as dst:
        dst.write(src.read())
    with open(os.path.join(models, internal, "model-settings.json"), "w") as f:
        json.dump({"name": internal, "implementation": "mlserver_echo.Echo"}, f)
    http, grpc = free_port(), free_port()
    with open(os.path.join(models, "settings.json"), "w") as f:
        json.dump({"host": "127.0.0.1", "http_port": http, "grpc_port": grpc,
                   "metrics_port": free_port(), "parallel_workers": 0}, f)
    env = {"PATH": os.path.join(harness, "mlserver-venv/bin") + ":/usr/bin:/bin"}
    if any(e["name"] == "MLSERVER_TRACING_SERVER" for e in mls.get("env") or []):
        env["MLSERVER_TRACING_SERVER"] = f"127.0.0.1:{JAEGER_OTLP}"
    mlserver = start(work, "mlserver", [os.path.join(harness, "mlserver-venv/bin/mlserver"), "start", models],
                     env=env, cwd=models)
    with open(os.path.join(work, "tracing.json"), "w") as f:
        json.dump(setting, f)
    tracer = os.path.join(harness, "core2-tracer")
    config = os.path.join(work, "tracing.json")
    agent_grpc = free_port()
    agent = start(work, "agent", [tracer, "rproxy", "--tracing-config-path", config,
                                  "--backend", f"127.0.0.1:{http}", "--grpc-listen", f"127.0.0.1:{agent_grpc}",
                                  "--grpc-backend", f"127.0.0.1:{grpc}"], env={})
    agent_port = int(agent.stdout.readline().strip().rsplit(":", 1)[1])
    routes = ["--model", f"{model}={internal}@127.0.0.1:{agent_port}",
              "--grpc-model", f"{model}={internal}@127.0.0.1:{agent_grpc}"]
    procs = [mlserver, agent]
    kafka = ["--tracing-config-path", config, "--brokers", KAFKA, "--namespace", ns]
    if pipeline:
        gateway = start(work, "pipelinegateway", [tracer, "pipelinegateway", *kafka, "--pipeline", pipeline], env={})
        gateway_port = int(gateway.stdout.readline().strip().rsplit(":", 1)[1])
        routes += ["--model", f"{pipeline}.pipeline={pipeline}.pipeline@127.0.0.1:{gateway_port}"]
        procs.append(gateway)
    router_port = free_port()
    router = start(work, "router", [tracer, "route", "--listen", f"127.0.0.1:{router_port}", *routes], env={})
    router.stdout.readline()
    procs.append(router)
    if pipeline:
        # Each says a line once its consumer group has its partitions.
        for name, extra in (("modelgateway", ["--inference", f"127.0.0.1:{router_port}", "--model", model]),
                            ("dataflow", ["--pipeline", f"{pipeline}={model}"])):
            proc = start(work, name, [tracer, name, *kafka, *extra], env={})
            if not proc.stdout.readline():
                sys.exit(f"demo-pods: the {name} stand-in did not start (see its .err in the work directory)")
            procs.append(proc)
    with open(os.path.join(work, "pids"), "w") as f:
        f.write("\n".join(str(p.pid) for p in procs))
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{http}/v2/models/{internal}/ready", timeout=1).read()
            break
        except OSError:
            if mlserver.poll() is not None:
                sys.exit("demo-pods: MLServer exited at start (see its .err in the work directory)")
            time.sleep(0.1)
    else:
        sys.exit("demo-pods: MLServer did not make the model ready")
    with open(os.path.join(work, "router-port"), "w") as f:
        f.write(f"{model} {router_port}")
    with_jaeger(kubeconfig, ns, [forward(ns, envoy, 9000, router_port)])


def model_traffic(work, n):
    """N inference requests through the mesh's router, each with a sampled traceparent of its own
    (a traced caller: the agent does not pass its own context on, so without one MLServer's
    spans would start traces of their own)."""
    model, port = open(os.path.join(work, "router-port")).read().split()
    body = json.dumps({"inputs": [{"name": "predict", "shape": [1, 4], "datatype": "FP32",
                                   "data": [[1, 2, 3, 4]]}]}).encode()
    for _ in range(n):
        parent = f"00-{os.urandom(16).hex()}-{os.urandom(8).hex()}-01"
        req = urllib.request.Request(f"http://127.0.0.1:{port}/v2/models/{model}/infer", data=body,
                                     headers={"Content-Type": "application/json", "seldon-model": model,
                                              "traceparent": parent})
        urllib.request.urlopen(req, timeout=10).read()
    time.sleep(6)  # the agent and MLServer export their batches every 5 s


def traffic(work, n):
    port = open(os.path.join(work, "executor-port")).read().strip()
    body = json.dumps({"data": {"ndarray": [[1.0, 2.0, 5.0]]}}).encode()
    for _ in range(n):
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1.0/predictions", data=body,
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).read()
    time.sleep(2)  # both tracing clients flush about every second


def down(work):
    try:
        pids = [int(p) for p in open(os.path.join(work, "pids")).read().split()]
    except OSError:
        return
    for pid in pids:
        try:
            os.killpg(pid, signal.SIGTERM)
        except OSError:
            pass


if __name__ == "__main__":
    cmd = sys.argv[1:2]
    if cmd == ["up"] and len(sys.argv) == 7:
        up(*sys.argv[2:])
    elif cmd == ["model-up"] and len(sys.argv) == 7:
        model_up(*sys.argv[2:])
    elif cmd == ["pipeline-up"] and len(sys.argv) == 7:
        pipeline_up(*sys.argv[2:])
    elif cmd == ["model-traffic"] and len(sys.argv) == 4:
        model_traffic(sys.argv[2], int(sys.argv[3]))
    elif cmd == ["traffic"] and len(sys.argv) == 4:
        traffic(sys.argv[2], int(sys.argv[3]))
    elif cmd == ["down"] and len(sys.argv) == 3:
        down(sys.argv[2])
    else:
        sys.exit(__doc__)
