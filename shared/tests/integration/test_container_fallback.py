"""The session fixtures never fail for want of a container: an image that is not there, or one
that will not start, gives a local process instead (with the reason)."""
import subprocess

import pytest

from kinerja import docker_engine
from kinerja.testing import ContainerUnavailable, _session_part, run_container, wait_for_container

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def engine(docker_engine_status):
    if docker_engine_status is None or not docker_engine_status.available:
        pytest.skip(f"no Docker engine: {docker_engine_status.reason if docker_engine_status else 'KINERJA_TEST_NO_DOCKER'}")
    return docker_engine_status


def test_an_image_that_is_not_built_gives_a_local_process(engine):
    started = []
    how, why, container, url = _session_part("Kafka", "KINERJA_TEST_NO_SUCH_VARIABLE", "kinerja/no-such-image:0",
                                             engine, lambda image: started.append(image))
    assert (how, container, url) == ("local", None, None)
    assert "kinerja/no-such-image:0 is not built" in why
    assert started == [], "no container is tried for an image that is not there"


def test_a_container_that_exits_at_start_gives_a_local_process_and_is_removed(engine):
    image = "kinerja/base:bookworm"
    if not docker_engine.image_present(image):
        pytest.skip(f"{image} is not built (deploy/docker/build-base.sh)")

    tried = []

    def broken(img):
        container = run_container(img, {}, command=["sh", "-c", "echo refusing to start >&2; exit 3"])
        tried.append(container.get_wrapped_container().id)
        wait_for_container(container, lambda: False, 30, "a broken part")
        return container, "never"

    how, why, container, url = _session_part("PostgreSQL", "KINERJA_TEST_NO_SUCH_VARIABLE", image, engine, broken)
    assert (how, container, url) == ("local", None, None)
    assert "exited" in why and "refusing to start" in why
    # by its id: an "ancestor" filter would also match the session's own Kafka/PostgreSQL containers,
    # whose images are built from the same base
    assert len(tried) == 1
    left = subprocess.run(docker_engine.docker_cmd("ps", "-aq", "--no-trunc", "--filter", f"id={tried[0]}"),
                          capture_output=True, text=True)
    assert left.returncode == 0 and left.stdout.split() == [], "the failed container is removed"


def test_an_engine_refusal_is_a_container_unavailable_not_an_error(engine):
    with pytest.raises(ContainerUnavailable):
        run_container("kinerja/no-such-image:0", {})
