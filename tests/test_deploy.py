"""deploy/: the compose file is valid against the Compose specification (the schema check-jsonschema ships) and is
wired as docs/scale-out.md says: Milvus standalone, stateless API replicas on it, a load balancer over them."""

from __future__ import annotations

import json
import re
from importlib.resources import files
from pathlib import Path

import jsonschema
import yaml

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    schema = json.loads((files("check_jsonschema") / "builtin_schemas" / "vendor" / "compose-spec.json").read_text())
    jsonschema.validate(_compose(), schema)


def test_replicas_use_milvus_behind_the_load_balancer() -> None:
    services = _compose()["services"]
    assert set(services) == {"etcd", "minio", "milvus", "api", "lb"}
    api = services["api"]
    assert api["environment"]["QA_BACKEND"] == "milvus"
    assert api["environment"]["QA_MILVUS_URI"] == "http://milvus:19530"
    assert api["deploy"]["replicas"] >= 2
    assert "ports" not in api  # reached only through the load balancer
    assert api["depends_on"]["milvus"]["condition"] == "service_healthy"
    assert services["milvus"]["environment"] == {"ETCD_ENDPOINTS": "etcd:2379", "MINIO_ADDRESS": "minio:9000"}
    assert services["lb"]["ports"] == ["8000:8000"]
    conf = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    assert re.search(r"server api:8000 resolve;", conf) and "proxy_pass http://api;" in conf
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert "pip install --no-cache-dir '.[milvus]'" in dockerfile
