"""The third-party requirements of the projects named, from their pyproject.toml files (with the
``postgres`` extra), one a line: what the image's dependency layer installs before the source is
copied in, and what build-images.sh makes wheels of.

    python3 deploy/docker/requirements.py shared/pyproject.toml services/tugas/pyproject.toml
"""
import sys
import tomllib

seen = []
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        project = tomllib.load(f)["project"]
    for req in project.get("dependencies", []) + project.get("optional-dependencies", {}).get("postgres", []):
        if not req.startswith("kinerja-") and req not in seen:
            seen.append(req)
print("\n".join(seen))
