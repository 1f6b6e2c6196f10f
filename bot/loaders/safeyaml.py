"""YAML front matter, safely: bounded nesting and alias expansion, no object tags, dates left as text.

PyYAML's safe loader still lets a few hundred bytes of aliases ("billion laughs") expand to gigabytes
when the result is walked or printed, recurses without bound on deep nesting, and raises ValueError on an
impossible date (`2020-02-30`) or a bad tag (`!!int xyz`). Here the composed node graph is measured before
anything is built, timestamps stay strings (the article's date parser judges them), and every failure is
a yaml.YAMLError.
"""

from __future__ import annotations

from typing import Any

import yaml

from bot.loaders import limits


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses deep nesting while composing (before Python's recursion limit)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > limits.MAX_YAML_DEPTH:
                raise yaml.YAMLError(f"nested deeper than {limits.MAX_YAML_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _as_text(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    return str(loader.construct_scalar(node))  # type: ignore[arg-type]


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _as_text)


def _expanded_size(root: yaml.Node) -> int:
    """Nodes in the document once every alias is expanded; a recursive alias counts as unbounded."""
    sizes: dict[int, int] = {}
    busy: set[int] = set()
    cap = limits.MAX_YAML_NODES + 1

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in busy:
            return cap  # an alias to an enclosing node: infinite
        busy.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            for child in node.value:
                total += size(child)
                if total >= cap:
                    break
        elif isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                total += size(k) + size(v)
                if total >= cap:
                    break
        busy.discard(key)
        sizes[key] = min(total, cap)
        return sizes[key]

    return size(root)


def load(text: str) -> Any:
    """The YAML document in `text` as Python data; yaml.YAMLError (with a readable message) if it is
    too big, too deep, expands too far through aliases, or is invalid in any way."""
    if len(text.encode("utf-8", "surrogatepass")) > limits.MAX_FRONT_MATTER_BYTES:
        raise yaml.YAMLError(f"longer than {limits.MAX_FRONT_MATTER_BYTES // 1024} KB")
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node) > limits.MAX_YAML_NODES:
            raise yaml.YAMLError(f"aliases expand to more than {limits.MAX_YAML_NODES:,} values")
        return loader.construct_document(node)
    except yaml.YAMLError:
        raise
    except (ValueError, TypeError, OverflowError, RecursionError) as e:  # bad tags: `!!int xyz`, `!!float []`
        raise yaml.YAMLError(f"{type(e).__name__}: {e}") from None
    finally:
        loader.dispose()
