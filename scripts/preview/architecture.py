"""The architecture picture: the template's resources and references, and the walkthrough's runtime flow.

Edges come from `Ref`, `Fn::GetAtt`, `Fn::Sub` (`${X}` and `${X.Attr}` inside its string) and `DependsOn`.
The layout is a function of the template alone: a resource's column is the length of its longest chain of
references, its row its place by name in that column; no randomness, so the SVG is byte-stable.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

# The walkthrough's runtime flow: what happens after Create, with the template resource that does it (if any).
RUNTIME_FLOW = (
    ("Git repository", "your commit", None),
    ("Connection", "CodeConnections", None),
    ("Build pipeline", "CodePipeline", "ModelBuildPipeline"),
    ("SageMaker pipeline", "preprocess, train, evaluate", None),
    ("Model registry", "model package group", None),
    ("Event rule", "on approval", "ModelDeploySageMakerEventRule"),
    ("Deploy pipeline", "CodePipeline", "ModelDeployPipeline"),
    ("Staging stack", "…-deploy-staging", None),
    ("Prod stack", "…-deploy-prod", None),
)
_SUB_VARIABLE = re.compile(r"\$\{(?!!)([A-Za-z0-9_:]+)(?:\.([A-Za-z0-9_.]+))?\}")
KINDS = ("Ref", "GetAtt", "Sub", "DependsOn")

FLOW_W, FLOW_H, FLOW_GAP = 190, 54, 26
BOX_W, BOX_H, COL_GAP, ROW_GAP = 470, 44, 80, 16
MARGIN, FLOW_TOP, GRAPH_TOP = 20, 40, 170


@dataclass(frozen=True)
class Edge:
    """`source` refers to `target` in these ways."""

    source: str
    target: str
    kinds: tuple[str, ...]


def _references(node: Any) -> Iterator[tuple[str, str]]:
    """(kind, logical id) for every reference inside a property value."""
    if isinstance(node, list):
        for item in node:
            yield from _references(item)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "Ref" and isinstance(value, str):
            yield "Ref", value
        elif key == "Fn::GetAtt":
            target = value.split(".", 1)[0] if isinstance(value, str) else value[0]
            yield "GetAtt", str(target)
        elif key == "Fn::Sub":
            text, variables = (value, {}) if isinstance(value, str) else (value[0], value[1])
            for match in _SUB_VARIABLE.finditer(str(text)):
                if match.group(1) not in variables:
                    yield "Sub", match.group(1)
            yield from _references(variables)
        else:
            yield from _references(value)


def edges(template: dict[str, Any]) -> list[Edge]:
    """References between resources (parameters and pseudo parameters are not drawn)."""
    resources: dict[str, Any] = template.get("Resources") or {}
    found: dict[tuple[str, str], set[str]] = {}
    for name, resource in resources.items():
        pairs = list(_references(resource.get("Properties") or {}))
        depends = resource.get("DependsOn") or []
        pairs += [("DependsOn", d) for d in ([depends] if isinstance(depends, str) else depends)]
        for kind, target in pairs:
            if target in resources and target != name:
                found.setdefault((name, target), set()).add(kind)
    return [Edge(s, t, tuple(k for k in KINDS if k in kinds)) for (s, t), kinds in sorted(found.items())]


def columns(template: dict[str, Any], graph: list[Edge]) -> dict[str, int]:
    """Each resource's column: 0 when it refers to no resource, else one more than its deepest target's."""
    targets: dict[str, list[str]] = {}
    for edge in graph:
        targets.setdefault(edge.source, []).append(edge.target)
    depth: dict[str, int] = {}

    def visit(name: str, path: tuple[str, ...]) -> int:
        if name not in depth:
            below = [visit(t, (*path, name)) for t in targets.get(name, []) if t not in path]
            depth[name] = 1 + max(below) if below else 0
        return depth[name]

    for name in sorted(template.get("Resources") or {}):
        visit(name, ())
    return depth


def _box(x: int, y: int, w: int, h: int, title: str, subtitle: str, ident: str, fill: str) -> list[str]:
    return [
        f"<g id={quoteattr(ident)}>",
        f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="6" fill="{fill}" stroke="#44546a"/>',
        f'<text x="{x + 10}" y="{y + 19}" font-size="13" font-weight="bold">{escape(title)}</text>',
        f'<text x="{x + 10}" y="{y + h - 10}" font-size="11" fill="#44546a">{escape(subtitle)}</text>',
        "</g>",
    ]


def svg(template: dict[str, Any], title: str) -> str:
    """The picture as a standalone SVG document (no external reference, no style sheet)."""
    resources: dict[str, Any] = template.get("Resources") or {}
    graph = edges(template)
    depth = columns(template, graph)
    by_column: dict[int, list[str]] = {}
    for name in sorted(resources):
        by_column.setdefault(depth[name], []).append(name)
    place: dict[str, tuple[int, int]] = {}
    for column, names in by_column.items():
        for row, name in enumerate(names):
            place[name] = (MARGIN + column * (BOX_W + COL_GAP), GRAPH_TOP + 30 + row * (BOX_H + ROW_GAP))
    rows = max((len(n) for n in by_column.values()), default=0)
    width = max(
        MARGIN * 2 + len(RUNTIME_FLOW) * (FLOW_W + FLOW_GAP) - FLOW_GAP,
        MARGIN * 2 + len(by_column) * (BOX_W + COL_GAP) - COL_GAP,
    )
    height = GRAPH_TOP + 30 + rows * (BOX_H + ROW_GAP) + 40
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" role="img" aria-label={quoteattr(title)}>',
        f"<title>{escape(title)}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#44546a"/></marker></defs>',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{MARGIN}" y="{FLOW_TOP - 14}" font-size="15" font-weight="bold">Runtime flow '
        "(walkthrough steps 3 to 5)</text>",
    ]
    for index, (name, what, logical_id) in enumerate(RUNTIME_FLOW):
        x = MARGIN + index * (FLOW_W + FLOW_GAP)
        subtitle = logical_id or what
        fill = "#e8f1fb" if logical_id else "#f4f4f4"
        out += _box(x, FLOW_TOP, FLOW_W, FLOW_H, name, subtitle, f"flow-{index}", fill)
        if index:
            y = FLOW_TOP + FLOW_H // 2
            out.append(
                f'<line x1="{x - FLOW_GAP}" y1="{y}" x2="{x}" y2="{y}" stroke="#44546a" '
                'marker-end="url(#arrow)"/>'
            )
    out.append(
        f'<text x="{MARGIN}" y="{GRAPH_TOP}" font-size="15" font-weight="bold">Template resources '
        f"({len(resources)}): an arrow points from a resource to one it refers to</text>"
    )
    for edge in graph:
        (sx, sy), (tx, ty) = place[edge.source], place[edge.target]
        dash = ' stroke-dasharray="5 4"' if edge.kinds == ("DependsOn",) else ""
        out.append(
            f'<line x1="{sx}" y1="{sy + BOX_H // 2}" x2="{tx + BOX_W}" y2="{ty + BOX_H // 2}" '
            f'stroke="#8a9bb0"{dash} marker-end="url(#arrow)">'
            f"<title>{escape(edge.source)} → {escape(edge.target)}: {', '.join(edge.kinds)}</title></line>"
        )
    for name in sorted(resources):
        x, y = place[name]
        kind = str(resources[name].get("Type", ""))
        fill = "#e8f1fb" if any(name == f[2] for f in RUNTIME_FLOW) else "#fdf6e3"
        out += _box(x, y, BOX_W, BOX_H, name, kind, f"resource-{name}", fill)
    out.append("</svg>")
    return "\n".join(out) + "\n"
