"""The stubs (`anchor_webhooks/__init__.pyi`) against the core's catalogue, as the native module reports it.

When the core gains an event type, an error code or a task error type, this test fails and prints the
exact lines to paste into the stub.
"""

from __future__ import annotations

import ast
from pathlib import Path

import anchor_webhooks as aw

STUB = Path(__file__).resolve().parents[1] / "python" / "anchor_webhooks" / "__init__.pyi"


def stub_tree() -> ast.Module:
    return ast.parse(STUB.read_text(encoding="utf-8"))


def literal_values(name: str) -> list[str]:
    for node in stub_tree().body:
        if isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == [name]:
            subscript = node.value
            assert isinstance(subscript, ast.Subscript), f"{name} is not a Literal[...]"
            elements = subscript.slice.elts if isinstance(subscript.slice, ast.Tuple) else [subscript.slice]
            return [element.value for element in elements]  # type: ignore[attr-defined]
    raise AssertionError(f"{STUB} declares no {name}")


def literal_fix(name: str, values: list[str]) -> str:
    lines = "\n".join(f'    "{value}",' for value in values)
    return f"{name} = Literal[\n{lines}\n]"


def check_literal(name: str, runtime: list[str]) -> None:
    declared = literal_values(name)
    assert declared == runtime, (
        f"{STUB.name}: {name} differs from the core's catalogue.\n"
        f"  only in the stub: {sorted(set(declared) - set(runtime))}\n"
        f"  only in the core: {sorted(set(runtime) - set(declared))}\n"
        f"Replace it with:\n\n{literal_fix(name, runtime)}\n"
    )


def test_event_type_literal_matches_the_catalogue() -> None:
    check_literal("EventType", aw.event_types())


def test_error_code_literal_matches_the_catalogue() -> None:
    check_literal("ErrorCode", aw.error_codes())


def test_task_error_type_literal_matches_the_catalogue() -> None:
    check_literal("TaskErrorType", aw.task_error_types())


def declared_code(node: ast.ClassDef) -> object:
    """The value of `code: Literal["..."]` in a stub class body, else None."""
    for statement in node.body:
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name) and statement.target.id == "code":
            annotation = statement.annotation
            if isinstance(annotation, ast.Subscript) and isinstance(annotation.slice, ast.Constant):
                return annotation.slice.value
    return None


def test_one_exception_class_per_error_code() -> None:
    declared = {
        node.name: declared_code(node)
        for node in stub_tree().body
        if isinstance(node, ast.ClassDef)
        and any(isinstance(base, ast.Name) and base.id == "WebhookVerificationError" for base in node.bases)
    }
    runtime = {
        name: value.code
        for name, value in vars(aw._native).items()
        if isinstance(value, type) and issubclass(value, aw.WebhookVerificationError) and value is not aw.WebhookVerificationError
    }
    assert sorted(runtime.values()) == sorted(aw.error_codes()), "the native module lacks a class for some code"
    missing = sorted(set(runtime) - set(declared))
    extra = sorted(set(declared) - set(runtime))
    fix = "\n".join(f'class {name}(WebhookVerificationError):\n    code: Literal["{runtime[name]}"]' for name in missing)
    assert not missing and not extra, (
        f"{STUB.name}: exception classes differ from the core's codes; missing {missing}, extra {extra}.\n"
        f"Add:\n\n{fix}\n(and add the names to __all__ in __init__.py and __init__.pyi)"
    )
    wrong = {name: code for name, code in declared.items() if name in runtime and code != runtime[name]}
    assert not wrong, f"{STUB.name}: the code Literal of {sorted(wrong)} differs from the runtime class's code"
    exported = set(aw.__all__)
    assert set(runtime) <= exported, f"add to __all__ in __init__.py: {sorted(set(runtime) - exported)}"
