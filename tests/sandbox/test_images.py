"""Dockerfile FROM resolution against the alias map (pure text, no engine); builds reused by content."""

import subprocess

from tmax.sandbox.images import BASE_IMAGE, rewrite_from_lines


def absent(image, engine):
    return False


def present_if_local(image, engine):
    return image.startswith("localhost/")


def test_registry_bases_resolve_to_the_local_base():
    text, subs = rewrite_from_lines("FROM ubuntu:24.04\nRUN echo hi\n", present=absent)
    assert text.splitlines()[0] == f"FROM {BASE_IMAGE}"
    assert subs == [{"from": "ubuntu:24.04", "to": BASE_IMAGE}]


def test_flags_stage_names_and_unknown_images():
    dockerfile = (
        "FROM --platform=linux/amd64 python:3.13-slim-bookworm AS build\n"
        "RUN pip install x\n"
        "FROM build\n"
        "FROM ghcr.io/laude-institute/t-bench/python-3-13:20250620\n"
        "FROM quay.io/someone/special:1\n"
        "FROM localhost/mine:1\n"
    )
    text, subs = rewrite_from_lines(dockerfile, present=present_if_local)
    lines = text.splitlines()
    assert lines[0] == f"FROM --platform=linux/amd64 {BASE_IMAGE} AS build"
    assert lines[2] == "FROM build"  # a stage, not an image
    assert lines[3] == f"FROM {BASE_IMAGE}"
    assert lines[4] == "FROM quay.io/someone/special:1"  # no alias: left for the engine to report
    assert lines[5] == "FROM localhost/mine:1"  # present locally: kept
    assert [s["from"] for s in subs] == ["python:3.13-slim-bookworm",
                                         "ghcr.io/laude-institute/t-bench/python-3-13:20250620"]


def test_docker_hub_images_through_ecr_public_resolve_too():
    """Public task collections name Docker Hub's official images through Amazon's mirror."""
    for image in ("public.ecr.aws/docker/library/python:3.11-slim", "public.ecr.aws/docker/library/ubuntu:24.04",
                  "public.ecr.aws/docker/library/debian:bookworm"):
        text, subs = rewrite_from_lines(f"FROM {image}\n", present=absent)
        assert text.splitlines()[0] == f"FROM {BASE_IMAGE}" and subs == [{"from": image, "to": BASE_IMAGE}]
    text, _ = rewrite_from_lines("FROM public.ecr.aws/someone/else:1\n", present=absent)
    assert text.splitlines()[0] == "FROM public.ecr.aws/someone/else:1"


def test_a_second_task_with_the_same_content_reuses_the_image(podman_image, tmp_path):
    """Same Dockerfile, context and base under another task's name: the image built first is
    used (no second build); other content is built under its own name."""
    import uuid

    from tmax.sandbox.container_cli import engine_argv
    from tmax.sandbox.images import build_image, image_exists

    marker = uuid.uuid4().hex  # content no earlier run built
    for name, text in (("a", marker), ("b", marker), ("c", marker + "-other"), ("d", marker)):
        (tmp_path / name / "app").mkdir(parents=True)
        (tmp_path / name / "app" / "f.txt").write_text(text + "\n")
        (tmp_path / name / "Dockerfile").write_text(f"FROM {podman_image}\nCOPY app/ /app/\n")
    (tmp_path / "d" / "app" / "f.txt").chmod(0o755)  # same bytes, but executable: other content
    built = {name: build_image(f"reuse-{name}-{marker[:8]}", tmp_path / name / "Dockerfile", tmp_path / name)
             for name in "abcd"}
    try:
        assert not built["a"].cached and f"reuse-a-{marker[:8]}" in built["a"].tag
        assert built["b"].cached and built["b"].tag == built["a"].tag
        assert not image_exists(f"localhost/tmax/reuse-b-{marker[:8]}:{built['a'].tag.rsplit(':', 1)[1]}")
        for name in "cd":
            assert not built[name].cached and built[name].tag.rsplit(":", 1)[1] != built["a"].tag.rsplit(":", 1)[1]
    finally:
        subprocess.run([*engine_argv("podman"), "rmi", "-f", *(b.tag for b in built.values())], capture_output=True)
