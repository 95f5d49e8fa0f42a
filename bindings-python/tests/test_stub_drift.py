"""The stubs (`anchor_webhooks/__init__.pyi`) against the core's catalogue, as the native module reports it.

When the core gains an event type, an error code or a task error type, this test fails and prints the
exact lines to paste into the stub.
"""

from __future__ import annotations

import ast
import inspect
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


# --- Docstrings: the stub carries the native module's own, so editors show them on hover -------------------
#
# Pylance, pyright and jedi read hover text from the stub, never from the compiled module: the docstrings the
# Rust doc comments give `help()` are copied in by `python tests/test_stub_drift.py --write-docstrings` (run
# with the test venv's python, the wheel installed), and this test fails when they differ.


def _docstring(doc: str, indent: str) -> str:
    text = doc.strip().replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if text.endswith('"'):  # it would run into the closing quotes
        text = text[:-1] + '\\"'
    lines = text.split("\n")
    body = "\n".join([lines[0]] + [f"{indent}{line}" if line else "" for line in lines[1:]])
    return f'{indent}"""{body}"""'


def _runtime_doc(owner: object, name: str) -> "str | None":
    if name.startswith("_"):
        return None  # dunders (their runtime docs are CPython's) and private helpers
    value = vars(owner).get(name) if isinstance(owner, type) else getattr(owner, name, None)
    doc = getattr(value, "__doc__", None)
    return inspect.cleandoc(doc) if isinstance(doc, str) and doc.strip() else None


def _is_ellipsis(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant) and statement.value.value is Ellipsis


def _is_docstring(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant) and isinstance(statement.value.value, str)


def stub_with_runtime_docstrings(text: str, runtime_module: object = aw) -> str:
    """The stub text with every documented class, method, property and function carrying its runtime doc."""
    lines = text.split("\n")
    edits: list[tuple[int, int, int, int, str]] = []  # (line, col, end line, end col, replacement), 0-based

    def document(node: "ast.ClassDef | ast.FunctionDef", doc: str) -> None:
        indent = " " * (node.col_offset + 4)
        first = node.body[0]
        docstring = _docstring(doc, indent)
        if _is_docstring(first):  # replace it, whatever it says
            edits.append((first.lineno - 1, 0, first.end_lineno - 1, first.end_col_offset, docstring))  # type: ignore[operator]
        elif _is_ellipsis(first) and len(node.body) == 1:
            # `def f(...) -> T: ...` or `class C(B): ...` (the `...` on the header's line or its own): the `...`,
            # and the spaces before it on its line, become the docstring on a line of its own.
            line = first.lineno - 1
            col = len(lines[line][: first.col_offset].rstrip())
            replacement = docstring if col == 0 else "\n" + docstring
            edits.append((line, col, line, first.end_col_offset, replacement))  # type: ignore[arg-type]
        else:  # a class: before its first statement (after any decorators of it)
            decorators = getattr(first, "decorator_list", [])
            line = min([first.lineno] + [d.lineno for d in decorators]) - 1
            edits.append((line, 0, line, 0, docstring + "\n"))

    tree = ast.parse(text)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            doc = _runtime_doc(runtime_module, node.name)
            if doc:
                document(node, doc)
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            runtime = getattr(runtime_module, node.name, None)
            if not isinstance(runtime, type):
                continue
            for member in node.body:
                doc = _runtime_doc(runtime, member.name) if isinstance(member, ast.FunctionDef) else None
                if doc:
                    document(member, doc)
            doc = inspect.cleandoc(runtime.__doc__) if runtime.__doc__ and runtime.__doc__.strip() else None
            if doc:
                document(node, doc)
    for line, col, end_line, end_col, replacement in sorted(edits, reverse=True):
        if (line, col) == (end_line, end_col) and col == 0:
            lines[line:line] = replacement.rstrip("\n").split("\n")
            continue
        head, tail = lines[line][:col], lines[end_line][end_col:]
        lines[line : end_line + 1] = (head + replacement + tail).split("\n")
    return "\n".join(lines)


def test_the_docstring_writer_keeps_every_stub_shape_valid() -> None:
    class OneLine:
        """Ends with a quote: "standard\""""

    class Spread:
        """Has a \\ backslash and \"\"\" quotes.

        And a second paragraph."""

        def method(self) -> None:
            """A method."""

    def function() -> None:
        """New text."""

    runtime = type("Runtime", (), {"OneLine": OneLine, "Spread": Spread, "function": function})
    stub = (
        "class OneLine(Exception): ...\n"
        "class Spread:\n"
        "    @property\n"
        "    def method(\n"
        "        self,\n"
        "    ) -> None:\n"
        "        ...\n"
        "def function() -> None:\n"
        '    """Old text."""\n'
    )
    written = stub_with_runtime_docstrings(stub, runtime)
    tree = ast.parse(written)
    docs = {node.name: ast.get_docstring(node, clean=False) for node in ast.walk(tree) if isinstance(node, (ast.ClassDef, ast.FunctionDef))}
    assert docs == {
        "OneLine": 'Ends with a quote: "standard"',
        "Spread": 'Has a \\ backslash and """ quotes.\n\n    And a second paragraph.',
        "method": "A method.",
        "function": "New text.",
    }
    assert not any(line != line.rstrip() for line in written.split("\n")), "no trailing spaces"
    assert stub_with_runtime_docstrings(written, runtime) == written, "writing twice changes nothing"


def test_stub_docstrings_are_the_runtime_docstrings() -> None:
    text = STUB.read_text(encoding="utf-8")
    assert stub_with_runtime_docstrings(text) == text, (
        f"{STUB.name}: its docstrings differ from the native module's (the Rust doc comments): run "
        "`python tests/test_stub_drift.py --write-docstrings` with the test venv's python"
    )


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["--write-docstrings"]:
        sys.exit("usage: python tests/test_stub_drift.py --write-docstrings")
    written = stub_with_runtime_docstrings(STUB.read_text(encoding="utf-8"))
    ast.parse(written)  # never write a stub Python cannot read
    STUB.write_text(written, encoding="utf-8")
