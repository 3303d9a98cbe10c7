"""The bundled example book that `cadence init` copies: the project's top-level `playbooks/`
and `templates/`, shipped as `cadence.skeleton.playbooks` and `cadence.skeleton.templates`
(pyproject.toml maps them), read through importlib.resources."""
