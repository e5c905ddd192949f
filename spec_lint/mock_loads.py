"""Rule that the mock can be built from the spec, the way it starts (`connexion-loads`)."""

from __future__ import annotations

from collections.abc import Iterator

from .model import Issue, LintedSpec, Rule


def connexion_loads(spec: LintedSpec) -> Iterator[Issue]:
    from mock_server.app import build_app  # imported here: building the mock is the slow part

    try:
        # What the mock's start-up does (its lifespan does nothing more; no test client, whose import
        # warns on Starlette 1.x without httpx2).
        build_app(spec_path=spec.path)
    except Exception as exc:  # whatever Connexion or the mock's builder raises is the finding
        text = str(exc)
        message = f"the mock cannot be built from this spec: {type(exc).__name__}: {text}".splitlines()[0][:300]
        named = [(*op.pointer, "operationId") for op in spec.operations if str(op.node.get("operationId")) in text]
        yield Issue(named[0] if named else (), message)


CONNEXION_LOADS = Rule(
    "connexion-loads", "error",
    "the mock can be built from the spec, the same way it starts (`--no-mock` skips this for other specs)",
    connexion_loads)
