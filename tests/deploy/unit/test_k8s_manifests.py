"""Every Kubernetes manifest under deploy/k8s, offline: the built-in kinds against the Kubernetes
OpenAPI schemas (kubernetes-validate, strict: unknown fields are errors), the custom resources
(Strimzi, KEDA) against the fields their operators document, and the promises between them:
KEDA never scales a consumer past its topics' partitions, every reference points at something
that exists, every command is in the image. Every overlay is rendered with kustomize.

Why the custom resources are not checked against their CRDs' OpenAPI schemas: those schemas ship
with the operators (Strimzi's and KEDA's install manifests), not with kubernetes-validate or any
package this project installs, and this machine has no network beyond the package registries. So
the tests hold them to the fields the operators document (spec keys, listener and storage types,
node-pool roles, trigger metadata) and to the promises that matter here (RF 3, min ISR 2, KRaft,
maxReplicaCount = the partitions of what a consumer reads, KINERJA_PARTITIONS = the topics' count,
groups and topics that match what the services use)."""
from __future__ import annotations

import re
from collections import Counter

import kubernetes_validate
import pytest
import yaml

pytestmark = pytest.mark.unit

K8S_VERSION = "1.30.0"  # the oldest Kubernetes release the manifests promise to work on
CUSTOM = {("kafka.strimzi.io/v1beta2", "Kafka"), ("kafka.strimzi.io/v1beta2", "KafkaNodePool"),
          ("kafka.strimzi.io/v1beta2", "KafkaTopic"), ("keda.sh/v1alpha1", "ScaledObject")}
KUSTOMIZE_KINDS = {"Kustomization", "Component"}
TOPICS = {"kehadiran.v1", "tugas.v1", "penilaian.v1", "pegawai.v1"}
CONSUMES = {"kehadiran": {"pegawai.v1"}, "tugas": {"pegawai.v1"},
            "penilaian": {"kehadiran.v1", "tugas.v1", "pegawai.v1"},
            "notifikasi": {"pegawai.v1", "penilaian.v1", "tugas.v1", "kehadiran.v1"}}


def source_documents(repo):
    """(path, document) for every YAML file under deploy/k8s, as written (before kustomize)."""
    for path in sorted((repo / "deploy" / "k8s").rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                yield path.relative_to(repo), doc


def validate_builtin(doc):
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_the_validator_rejects_what_a_cluster_would():
    """A control: the schema check is not vacuous (unknown field, wrong type, missing field)."""
    good = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "x"},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"a": "b"}}}}
    validate_builtin(good)
    for bad in ({**good, "spec": {**good["spec"], "minAvialable": 1}},
                {**good, "spec": {**good["spec"], "selector": "a=b"}},
                {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}, "spec": {"replicas": 1}}):
        with pytest.raises(kubernetes_validate.ValidationError):
            validate_builtin(bad)


def test_every_source_manifest_of_a_builtin_kind_matches_the_kubernetes_schema(repo):
    checked = Counter()
    for path, doc in source_documents(repo):
        kind = doc.get("kind")
        if kind in KUSTOMIZE_KINDS or (doc.get("apiVersion"), kind) in CUSTOM:
            continue
        try:
            validate_builtin(doc)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{path}: {kind} {doc['metadata'].get('name')}: {exc}")
        checked[kind] += 1
    assert checked["Deployment"] >= 10 and checked["HorizontalPodAutoscaler"] == 4, checked


def test_the_overlays_render_and_every_document_is_valid(rendered, deploy_helpers):
    for overlay, docs in rendered.items():
        kinds = Counter(d["kind"] for d in docs)
        for doc in docs:
            key = (doc["apiVersion"], doc["kind"])
            assert key in CUSTOM or key[1] not in KUSTOMIZE_KINDS
            if key in CUSTOM:
                continue
            try:
                validate_builtin(doc)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{overlay}: {doc['kind']} {doc['metadata']['name']}: {exc}")
        agencies = deploy_helpers.AGENCIES[overlay]
        assert kinds["Kafka"] == 1, overlay
        assert kinds["ScaledObject"] == 4 * agencies and kinds["HorizontalPodAutoscaler"] == 4 * agencies
        assert kinds["KafkaTopic"] == 8 * agencies
        # the local-config ConfigMaps that feed the agency prefix and the partitions are not applied
        assert not [d for d in docs if d["kind"] == "ConfigMap"
                    and d["metadata"]["name"] in ("kinerja-agency", "kinerja-partitions")]


def _by(docs, kind):
    return [d for d in docs if d["kind"] == kind]


def _ns(doc):
    return doc["metadata"].get("namespace", "")


def test_strimzi_kafka_is_kraft_with_three_brokers_rf3_and_min_isr2(rendered):
    for overlay, docs in rendered.items():
        (kafka,) = _by(docs, "Kafka")
        ann = kafka["metadata"].get("annotations", {})
        assert ann.get("strimzi.io/node-pools") == "enabled" and ann.get("strimzi.io/kraft") == "enabled"
        spec = kafka["spec"]
        assert set(spec) <= {"kafka", "entityOperator", "cruiseControl", "kafkaExporter"}, set(spec)
        assert "zookeeper" not in spec and "replicas" not in spec["kafka"] and "storage" not in spec["kafka"], \
            "with node pools, replicas and storage belong to the KafkaNodePool"
        cfg = spec["kafka"]["config"]
        assert cfg["default.replication.factor"] == 3 and cfg["min.insync.replicas"] == 2
        assert cfg["offsets.topic.replication.factor"] == 3 and cfg["transaction.state.log.min.isr"] == 2
        assert cfg["auto.create.topics.enable"] is False
        for listener in spec["kafka"]["listeners"]:
            assert set(listener) >= {"name", "port", "type", "tls"} and listener["type"] in (
                "internal", "route", "loadbalancer", "nodeport", "ingress", "cluster-ip")
            assert re.fullmatch(r"[a-z0-9]{1,11}", listener["name"])
        assert "topicOperator" in spec["entityOperator"]
        assert spec["kafka"]["template"]["podDisruptionBudget"]["maxUnavailable"] == 1
        pools = [p for p in _by(docs, "KafkaNodePool") if p["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]]
        for pool in pools:
            assert _ns(pool) == _ns(kafka), "a node pool lives beside its Kafka"
            assert set(pool["spec"]["roles"]) <= {"broker", "controller"} and pool["spec"]["storage"]["type"] in (
                "jbod", "persistent-claim", "ephemeral")
        brokers = sum(p["spec"]["replicas"] for p in pools if "broker" in p["spec"]["roles"])
        controllers = sum(p["spec"]["replicas"] for p in pools if "controller" in p["spec"]["roles"])
        assert brokers == 3 and controllers % 2 == 1 and controllers >= 3
        assert any(v.get("kraftMetadata") == "shared" for p in pools if "controller" in p["spec"]["roles"]
                   for v in p["spec"]["storage"]["volumes"])


def _topics(docs):
    return {t["spec"]["topicName"]: t for t in _by(docs, "KafkaTopic")}


def _configs(docs):
    """{namespace: data} of the services' kinerja-config in each agency's namespace."""
    return {_ns(c): c["data"] for c in _by(docs, "ConfigMap") if c["metadata"]["name"].startswith("kinerja-config")}


def test_kafka_topics_match_what_the_services_create(rendered):
    """The KafkaTopics of each agency are the set ``kinerja topics create`` makes with that agency's
    KINERJA_PARTITIONS (the services read it from their ConfigMap)."""
    from kinerja.messaging.topics import topic_specs

    for overlay, docs in rendered.items():
        (kafka,) = _by(docs, "Kafka")
        topics = _topics(docs)
        partitions = {cfg["KINERJA_TOPIC_PREFIX"]: int(cfg["KINERJA_PARTITIONS"]) for cfg in _configs(docs).values()}
        assert set(partitions) == ({""} if overlay != "regency" else {"disdik", "dinkes"})
        expected = {s.name: s for p, n in partitions.items() for s in topic_specs(p, n)}
        assert set(topics) == set(expected), set(topics) ^ set(expected)
        for name, resource in topics.items():
            spec, want = resource["spec"], expected[name]
            assert resource["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
            assert _ns(resource) == _ns(kafka), "the Topic Operator watches the Kafka cluster's namespace"
            assert re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", resource["metadata"]["name"])
            assert spec["partitions"] == want.partitions and spec["replicas"] == 3
            assert spec["config"]["cleanup.policy"] == want.config["cleanup.policy"]
            assert spec["config"]["min.insync.replicas"] == 2
        assert all(t["spec"]["config"]["cleanup.policy"] == "compact" for n, t in topics.items()
                   if n.endswith("pegawai.v1"))


def test_keda_scales_a_consumer_up_to_the_partitions_it_reads_and_no_further(rendered):
    """The KEDA cap follows the partitions: a group uses at most one consumer per partition, so the
    cap is the largest partition count among the topics the consumer reads (more would sit idle,
    fewer would leave partitions a replica could take)."""
    for overlay, docs in rendered.items():
        topics = _topics(docs)
        deployments = {(_ns(d), d["metadata"]["name"]) for d in _by(docs, "Deployment")}
        configs = _configs(docs)
        for so in _by(docs, "ScaledObject"):
            spec = so["spec"]
            assert set(spec) <= {"scaleTargetRef", "pollingInterval", "cooldownPeriod", "initialCooldownPeriod",
                                 "idleReplicaCount", "minReplicaCount", "maxReplicaCount", "fallback", "advanced",
                                 "triggers"}, set(spec)
            target = spec["scaleTargetRef"]
            assert (_ns(so), target["name"]) in deployments, f"{so['metadata']['name']} scales nothing"
            service = target["name"].removesuffix("-consumer")
            prefix = configs[_ns(so)]["KINERJA_TOPIC_PREFIX"]
            full = lambda base: f"{prefix}.{base}" if prefix else base  # noqa: E731
            assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
            seen = set()
            for trig in spec["triggers"]:
                meta = trig["metadata"]
                assert trig["type"] == "kafka"
                assert meta["bootstrapServers"] == configs[_ns(so)]["KINERJA_KAFKA_BOOTSTRAP"]
                assert meta["consumerGroup"] == full(service), "the group the consumer joins (prefixed)"
                assert meta["topic"] in topics, f"{meta['topic']} is no KafkaTopic"
                assert meta.get("allowIdleConsumers", "false") == "false"
                assert int(meta["lagThreshold"]) > 0
                seen.add(meta["topic"])
            assert seen == {full(t) for t in CONSUMES[service]}, "one trigger per topic it consumes"
            most = max(topics[t]["spec"]["partitions"] for t in seen)
            assert spec["maxReplicaCount"] == most, \
                f"{overlay}: {so['metadata']['name']} may scale to {spec['maxReplicaCount']}, its topics have {most} partitions"


def test_partitions_grow_with_the_overlay_and_only_the_event_topics_follow(rendered):
    """A province and the nation get more partitions than an agency (components/partitions); the
    roster and the dead-letter topics keep theirs, and so do the consumers that read only the roster."""
    counts = {}
    for overlay, docs in rendered.items():
        by_kind = {}
        for t in _by(docs, "KafkaTopic"):
            by_kind.setdefault(t["metadata"]["labels"]["kinerja.go.id/topic"], set()).add(t["spec"]["partitions"])
        assert by_kind["dead-letter"] == {1} and by_kind["roster"] == {12}, (overlay, by_kind)
        (events,) = by_kind["events"]
        counts[overlay] = events
        caps = {so["metadata"]["name"]: so["spec"]["maxReplicaCount"] for so in _by(docs, "ScaledObject")}
        assert {caps[n] for n in caps if n.endswith(("kehadiran-consumer", "tugas-consumer"))} == {12}
        assert {caps[n] for n in caps if n.endswith(("penilaian-consumer", "notifikasi-consumer"))} == {events}
    assert counts["single-agency"] == counts["regency"] == 12
    assert 12 < counts["province"] < counts["nation"], counts
    assert all(n % 12 == 0 for n in counts.values()), "1, 2, 3, 4, 6 or 12 replicas share them evenly"


def test_the_base_agrees_with_the_code_and_compose_on_the_default(repo):
    """Without kustomize too: the base's event topics, ConfigMap, KEDA caps and Kafka default all say
    what kinerja.config says (12), and compose passes the same default to the topics job."""
    from kinerja.config import DEFAULT_PARTITIONS

    docs = [d for _, d in source_documents(repo)]
    base = repo / "deploy" / "k8s" / "base"
    events = [d for _, d in source_documents(repo) if d.get("kind") == "KafkaTopic"
              and d["metadata"]["labels"].get("kinerja.go.id/topic") == "events"]
    assert len(events) == 3 and {d["spec"]["partitions"] for d in events} == {DEFAULT_PARTITIONS}
    assert {d["spec"]["maxReplicaCount"] for d in docs if d.get("kind") == "ScaledObject"} == {DEFAULT_PARTITIONS}
    literals = yaml.safe_load((base / "services" / "kustomization.yaml").read_text())["configMapGenerator"][0]["literals"]
    assert f"KINERJA_PARTITIONS={DEFAULT_PARTITIONS}" in literals
    (kafka,) = [d for d in docs if d.get("kind") == "Kafka"]
    assert kafka["spec"]["kafka"]["config"]["num.partitions"] == DEFAULT_PARTITIONS
    compose = yaml.safe_load((repo / "docker-compose.yml").read_text())
    assert compose["x-common-env"]["KINERJA_PARTITIONS"] == f"${{KINERJA_PARTITIONS:-{DEFAULT_PARTITIONS}}}"
    assert compose["services"]["topics"]["command"] == ["kinerja", "topics", "create"], \
        "the job takes KINERJA_PARTITIONS from the environment, not a number of its own"
    assert compose["services"]["kafka"]["environment"]["KAFKA_NUM_PARTITIONS"] == f"${{KINERJA_PARTITIONS:-{DEFAULT_PARTITIONS}}}"


def test_hpa_pdb_and_services_point_at_real_pods(rendered):
    for overlay, docs in rendered.items():
        deployments = {(_ns(d), d["metadata"]["name"]): d for d in _by(docs, "Deployment")}
        pod_labels = [(_ns(d), d["spec"]["template"]["metadata"]["labels"]) for d in deployments.values()]

        def matches(ns, selector):
            return [lbl for n, lbl in pod_labels if n == ns and all(lbl.get(k) == v for k, v in selector.items())]

        for hpa in _by(docs, "HorizontalPodAutoscaler"):
            ref = hpa["spec"]["scaleTargetRef"]
            target = deployments[(_ns(hpa), ref["name"])]
            assert ref["kind"] == "Deployment" and target["metadata"]["name"].endswith("-web")
            assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
            assert all("cpu" in c["resources"]["requests"] for c in target["spec"]["template"]["spec"]["containers"])
            assert hpa["spec"]["minReplicas"] >= 2, "one web pod may be disrupted while another serves"
        for pdb in _by(docs, "PodDisruptionBudget"):
            assert "strimzi.io/cluster" not in pdb["spec"]["selector"]["matchLabels"], \
                "Strimzi makes the Kafka pods' PDB; a second one blocks every eviction"
            assert matches(_ns(pdb), pdb["spec"]["selector"]["matchLabels"]), pdb["metadata"]["name"]
        for svc in _by(docs, "Service"):
            (labels,) = matches(_ns(svc), svc["spec"]["selector"])
        web = [d for d in deployments.values() if d["metadata"]["name"].endswith("-web")]
        assert len(web) == len(_by(docs, "Service")) == len(_by(docs, "HorizontalPodAutoscaler"))


def test_pods_probe_health_read_config_and_run_commands_of_their_image(rendered, deploy_helpers, repo):
    (base_secret,) = [d for _, d in source_documents(repo) if d.get("kind") == "Secret"]
    for overlay, docs in rendered.items():
        assert not _by(docs, "Secret"), "an overlay must not overwrite the real Secret with placeholders"
        names = {(d["kind"], _ns(d), d["metadata"]["name"]) for d in docs}
        workloads = _by(docs, "Deployment") + _by(docs, "Job")
        assert workloads
        for w in workloads:
            pod = w["spec"]["template"]["spec"]
            assert pod["securityContext"]["runAsNonRoot"] is True
            for c in pod["containers"]:
                service = w["metadata"]["labels"]["app.kubernetes.io/name"]
                assert re.search(rf"/kinerja/{service}:|^kinerja/{service}:", c["image"]), c["image"]
                command = c.get("command")
                if command:  # else the image's CMD: gunicorn (web)
                    assert command[0] in deploy_helpers.image_commands(service), command
                else:
                    assert w["metadata"]["name"].endswith("-web")
                if w["metadata"]["name"].endswith("-web"):
                    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
                    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
                assert c["securityContext"]["allowPrivilegeEscalation"] is False
                for src in c.get("envFrom", []):
                    assert ("ConfigMap", _ns(w), src["configMapRef"]["name"]) in names
                for var in c.get("env", []):
                    ref = var.get("valueFrom", {}).get("secretKeyRef")
                    if ref:  # the overlays leave the Secret to the secret store; the base documents its keys
                        assert ref["name"] == base_secret["metadata"]["name"] and ref["key"] in base_secret["stringData"]
        # each service's consumer is in every agency; relays only where a service publishes
        consumers = [d for d in _by(docs, "Deployment") if d["metadata"]["name"].endswith("-consumer")]
        relays = [d["metadata"]["name"] for d in _by(docs, "Deployment") if d["metadata"]["name"].endswith("-relay")]
        assert len(consumers) == 4 * deploy_helpers.AGENCIES[overlay]
        assert "notifikasi-relay" not in relays
        # relays share an outbox safely (key buckets held by one relay each), so they run as two and roll
        for relay in _by(docs, "Deployment"):
            if relay["metadata"]["name"].endswith("-relay"):
                assert relay["spec"]["replicas"] == 2 and relay["spec"]["strategy"]["type"] == "RollingUpdate"


def test_each_agency_gets_its_own_prefix_namespace_and_groups(rendered):
    docs = rendered["regency"]
    configs = {_ns(c): c["data"] for c in _by(docs, "ConfigMap") if c["metadata"]["name"].startswith("kinerja-config")}
    assert {ns: cfg["KINERJA_TOPIC_PREFIX"] for ns, cfg in configs.items()} == {
        "kinerja-disdik": "disdik", "kinerja-dinkes": "dinkes"}
    assert all(cfg["KINERJA_KAFKA_BOOTSTRAP"] == "kinerja-kafka-bootstrap.kinerja-kafka.svc:9092" for cfg in configs.values())
    (single_cfg,) = [c["data"] for c in _by(rendered["single-agency"], "ConfigMap")]
    assert single_cfg["KINERJA_TOPIC_PREFIX"] == "" and single_cfg["KINERJA_KAFKA_BOOTSTRAP"] == "kinerja-kafka-bootstrap:9092"


def test_the_roles_whose_work_can_wait_weigh_less_on_the_cpu_in_compose_and_kubernetes(repo):
    """What ``make run`` does with nice (``kinerja.cpu_priority.BACKGROUND_ROLES``), the containers do
    with a CPU weight: compose's ``cpu_shares`` below the default 1024, Kubernetes' CPU requests
    (the weight of a pod's cgroup) below those of the web apps and the day worker."""
    from kinerja.cpu_priority import BACKGROUND_ROLES

    def role(name: str) -> str:
        return name.rsplit("-", 1)[-1]

    services = yaml.safe_load((repo / "docker-compose.yml").read_text())["services"]
    long_running = {n: s for n, s in services.items() if role(n) in BACKGROUND_ROLES | {"web", "worker"}}
    assert {role(n) for n in long_running} == BACKGROUND_ROLES | {"web", "worker"}
    for name, spec in long_running.items():
        if role(name) in BACKGROUND_ROLES:
            assert spec.get("cpu_shares", 1024) < 1024, name
        else:
            assert spec.get("cpu_shares", 1024) >= 1024, name

    def millicores(value) -> int:
        text = str(value)
        return int(text[:-1]) if text.endswith("m") else int(float(text) * 1000)

    requests = {d["metadata"]["name"]: millicores(d["spec"]["template"]["spec"]["containers"][0]["resources"]
                                                  ["requests"]["cpu"])
                for _, d in source_documents(repo) if d.get("kind") == "Deployment"
                and role(d["metadata"]["name"]) in BACKGROUND_ROLES | {"web", "worker"}}
    foreground = min(v for n, v in requests.items() if role(n) in {"web", "worker"})
    background = {n: v for n, v in requests.items() if role(n) in BACKGROUND_ROLES}
    assert background and all(v < foreground for v in background.values()), (foreground, background)
