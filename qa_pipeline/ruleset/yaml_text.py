"""YAML the way rule and settings files are read: PyYAML's safe loader (libyaml's parser where
PyYAML was built with it: the rules load at every start, and with their pattern examples the
Python parser alone takes a third of a second, bench/rules_load.py), plus two refusals PyYAML
does not make. A key given twice in one mapping is an error (PyYAML silently keeps the last: a
second `price:` would quietly change a campaign), and so is nesting deeper than MAX_DEPTH (the
Python parser recurses, so a deep file would end in a RecursionError). Every problem comes with
its line and column. The only module that imports PyYAML.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_DEPTH = 64  # rule files nest about 8 levels

_BASE: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE = "tag:yaml.org,2002:merge"


class YamlProblem(Exception):
    """Why a text is not usable YAML, and where (1-based line and column, 0 when unknown)."""

    def __init__(self, problem: str, line: int = 0, column: int = 0) -> None:
        where = f"line {line}, column {column}: " if line else ""
        super().__init__(f"{where}{problem}")
        self.problem, self.line, self.column = problem, line, column


def _problem(problem: str, mark: Any) -> YamlProblem:
    if mark is None:
        return YamlProblem(problem)
    return YamlProblem(problem, mark.line + 1, mark.column + 1)


class UniqueKeys(yaml.constructor.SafeConstructor):
    """A safe constructor refusing a key given twice in one mapping."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        first: dict[tuple[str, str], Any] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE:
                continue  # merged keys may be overridden: that is what a merge is for
            key = (key_node.tag, key_node.value)  # as written: cheap, and what a reader sees
            earlier: Any = first.setdefault(key, key_node.start_mark)
            if earlier is not key_node.start_mark:
                line = earlier.line + 1
                problem = f"duplicate key {key_node.value!r} (first given at line {line})"
                raise _problem(problem, key_node.start_mark)
        return super().construct_mapping(node, deep)


class _Loader(UniqueKeys, _BASE):  # type: ignore[misc,valid-type]
    pass


def _check_depth(root: Node) -> None:
    """Nesting past MAX_DEPTH is refused, walked without recursion."""
    stack: list[tuple[Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _problem(f"nested deeper than {MAX_DEPTH} levels", node.start_mark)
        if isinstance(node, SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                stack.extend(((key, depth + 1), (value, depth + 1)))


def parse_yaml(text: str) -> Any:
    """The one document in `text` (None when empty); YamlProblem when it is not usable."""
    loader = _Loader(text)  # type: ignore[call-arg]  # the C loader's stubs take no stream
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_depth(node)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        raise _problem(
            f"not valid YAML: {exc.problem or exc.__class__.__name__}", exc.problem_mark
        ) from exc
    except yaml.YAMLError as exc:
        raise YamlProblem(f"not valid YAML: {exc}") from exc
    except RecursionError as exc:  # the Python parser, before the depth could be checked
        raise YamlProblem(f"nested deeper than {MAX_DEPTH} levels") from exc
    finally:
        loader.dispose()
