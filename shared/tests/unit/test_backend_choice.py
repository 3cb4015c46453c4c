"""Where the session's Kafka and PostgreSQL come from: the environment, a container of the local
image, or a local process; and that a container which cannot be had falls back, never fails."""
import pytest

from kinerja.docker_engine import EngineStatus
from kinerja.testing import choose_backend

pytestmark = pytest.mark.unit

UP = EngineStatus(True, False, "a Docker engine answers on unix:///var/run/docker.sock")


def never(_image):
    raise AssertionError("the image is only looked up when an engine answers")


def test_a_url_from_the_environment_wins_over_everything():
    assert choose_backend("Kafka", "10.0.0.5:9092", UP, "kinerja/kafka:4.3.1", lambda i: True)[0] == "env"


def test_a_container_when_an_engine_answers_and_the_image_is_built():
    how, why = choose_backend("Kafka", None, UP, "kinerja/kafka:4.3.1", lambda i: i == "kinerja/kafka:4.3.1")
    assert how == "container" and "kinerja/kafka:4.3.1" in why


def test_a_local_process_without_the_image_and_the_reason_names_the_build_script():
    how, why = choose_backend("PostgreSQL", None, UP, "kinerja/postgres:15", lambda i: False)
    assert how == "local" and "not built" in why and "build-images.sh" in why


@pytest.mark.parametrize("engine", [None, EngineStatus(False, False, "no dockerd to start (apt-get install docker.io)")])
def test_a_local_process_without_an_engine_and_the_reason_says_why(engine):
    how, why = choose_backend("Kafka", None, engine, "kinerja/kafka:4.3.1", never)
    assert how == "local"
    assert ("docker.io" in why) if engine else ("no Docker engine" in why)
