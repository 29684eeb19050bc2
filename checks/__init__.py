"""The check catalogue (installed as ``posture.checks``).

One module per principle area. Each check is a function annotated with
:func:`posture.registry.check`; :func:`posture.registry.load_catalogue` finds them.
Control mappings live in ``frameworks/<framework>.toml``.
"""
