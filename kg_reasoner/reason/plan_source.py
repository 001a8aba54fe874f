"""A query's operator tree (``plans._Join``, ``_LeftJoin``, ``_Filter``, ``_Extend``, ``_Union``, ``_Project``)
written as Python source and compiled once per plan: one function of nested loops that appends the query's
solutions to a list, instead of a generator per operator resumed for each row. It computes what the
operators' ``run`` methods compute, with the same rows in the same order: a query's solutions are always
read to the end, so the rows are made eagerly here (an operand's rows gathered in a list where the
generators interleave them). A BGP is called as itself (``_Bgp.run``, its steps compiled by
``step_source``), an empty BGP is the row passed in, and any other operator (ORDER BY, DISTINCT, a
subquery, an aggregate, VALUES) runs as its own ``run``. Generic over SPARQL: the source holds variable
names and the query's compiled expressions, nothing else.

``tests/test_plans.py`` runs every plan case and every query call of the corpus both ways and compares the
solutions (``plans.QueryPlan.check_tree``)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from kg_reasoner.reason.step_source import SourceWriter

#: an operand whose loops would nest deeper than this below the loops around it is compiled as a function
#: of its own (CPython refuses more than 20 nested blocks in one function)
_SPLIT = 6
#: the most nested loops in one generated function (a safety net: never reached with ``_SPLIT``)
_MAX_LOOPS = 18

_numbers = itertools.count(1)


class _TooDeep(Exception):
    pass


def compiled(root, helpers: dict) -> Callable | None:
    """run(mu, parts) -> the root's solutions as a list, or None when it nests too deep. ``helpers``: the
    plans module's classes and functions the source calls (``_Bgp``, ``_Join``, ... ``_passing``,
    ``_compatible``, ``_filter_passes``, ``_extended``, ``_empty``)."""
    w = _Writer(helpers)
    try:
        return w.function(root)
    except _TooDeep:
        return None


class _Writer(SourceWriter):
    def __init__(self, helpers: dict):
        super().__init__(
            {
                "_passing": helpers["_passing"],
                "_compatible": helpers["_compatible"],
                "_passes": helpers["_filter_passes"],
                "_extended": helpers["_extended"],
            }
        )
        self.h = helpers

    def function(self, root) -> Callable:
        """The root compiled as a function of its own: run(mu, parts) -> list of rows."""
        lines: list[str] = ["def run(mu, parts):", "    out = []", "    append = out.append"]
        self.emit(root, "mu", 1, lambda row, depth: lines.append("    " * depth + f"append({row})"), lines)
        lines.append("    return out")
        source = "\n".join(lines) + "\n"
        namespace = dict(self.env)
        exec(compile(source, f"<plan tree {next(_numbers)}>", "exec"), namespace)  # noqa: S102
        fn = namespace["run"]
        fn.source = source  # (for a reader, and for the tests)
        return fn

    def nest(self, node) -> int:
        """How many loops of a node's own code enclose the rows it hands on."""
        h = self.h
        t = type(node)
        if h["_empty"](node):
            return 0
        if t is h["_Extend"]:
            return self.nest(node._base)
        if t is h["_Filter"] or t is h["_Project"]:
            return self.nest(node.p)
        if t is h["_Join"]:
            return self.nest(node.a) + (1 if self.whole(node) else self.nest(node.b))
        if t is h["_LeftJoin"]:
            return self.nest(node.a) + 1
        return 1  # (a BGP, a union's list, any other operator's rows)

    def whole(self, node) -> bool:
        return bool(node.whole_rows and node._whole)

    def operand(self, node, row: str, depth: int, consume, lines: list) -> None:
        """An operand: inline, or as a function of its own when its loops would nest too deep here."""
        if depth + self.nest(node) > _SPLIT and self.nest(node) > 1:
            fn = self.const(self.split(node))
            rows = self.name("r")
            lines.append("    " * depth + f"for {rows} in {fn}({row}, parts):")
            consume(rows, depth + 1)
            return
        self.emit(node, row, depth, consume, lines)

    def split(self, node) -> Callable:
        return _Writer(self.h).function(node)

    def emit(self, node, row: str, depth: int, consume, lines: list) -> None:
        """Lines that compute the node's rows for the row ``row`` (a local variable), each handed to
        ``consume(local, depth)``, which writes what is done with it."""
        if depth > _MAX_LOOPS:
            raise _TooDeep()
        h = self.h
        t = type(node)
        pad = "    " * depth

        def line(d: int, text: str) -> None:
            lines.append("    " * d + text)

        if h["_empty"](node):  # (one solution: what is passed in)
            consume(row, depth)
        elif t is h["_Bgp"]:
            fn, r = self.const(node.run), self.name("r")
            line(depth, f"for {r} in {fn}({row}, parts):")
            consume(r, depth + 1)
        elif t is h["_Extend"]:
            binds = self.const(node._binds)

            def extended(nu: str, d: int) -> None:
                r = self.name("x")
                line(d, f"{r} = _extended({binds}, {nu}, parts)")
                consume(r, d)

            self.operand(node._base, row, depth, extended, lines)
        elif t is h["_Filter"]:
            tests = [self.const(test) for test in node.tests]

            def filtered(nu: str, d: int) -> None:
                line(d, "if " + " and ".join(f"_passes({k}, {nu}, parts)" for k in tests) + ":")
                consume(nu, d + 1)

            self.operand(node.p, row, depth, filtered, lines)
        elif t is h["_Project"]:

            def projected(nu: str, d: int) -> None:
                r = self.name("p")
                line(d, f"{r} = {{}}")
                for n in node.names:
                    line(d, f"if {n!r} in {nu}:")
                    line(d + 1, f"{r}[{n!r}] = {nu}[{n!r}]")
                consume(r, d)

            self.operand(node.p, row, depth, projected, lines)
        elif t is h["_Union"]:
            gathered = self.name("u")
            line(depth, f"{gathered} = []")
            for side in (node.a, node.b):
                self.operand(side, row, depth, lambda nu, d: line(d, f"{gathered}.append({nu})"), lines)
            r = self.name("r")
            line(depth, f"for {r} in {gathered}:")
            consume(r, depth + 1)
        elif t is h["_Join"]:
            self.operand(node.a, row, depth, lambda left, d: self.joined(node, row, left, d, consume, lines), lines)
        elif t is h["_LeftJoin"]:
            self.operand(
                node.a, row, depth, lambda left, d: self.left_joined(node, row, left, d, consume, lines), lines
            )
        else:  # ORDER BY, DISTINCT, a subquery, an aggregate, VALUES: its own run
            fn, r = self.const(node.run), self.name("r")
            lines.append(pad + f"for {r} in {fn}({row}, parts):")
            consume(r, depth + 1)

    def passed(self, node, mu: str, left: str, d: int, lines: list) -> str:
        """What a join passes its right operand for the left row (``_Join.run``)."""
        if self.whole(node):
            return left
        r = self.name("q")
        lines.append("    " * d + f"{r} = _passing({mu}, {left}, {self.const(tuple(node.b.safe))})")
        return r

    def merged(self, node, left: str, right: str, d: int, lines: list) -> tuple[str, int]:
        """The joined row of a left and a right row, under the compatibility test when one is needed."""
        if self.whole(node):
            return right, d  # (the left row, extended)
        if node.check:
            lines.append("    " * d + f"if _compatible({left}, {right}, {self.const(node.check)}):")
            d += 1
        r = self.name("m")
        lines.append("    " * d + f"{r} = {{**{left}, **{right}}}")
        return r, d

    def joined(self, node, mu: str, left: str, d: int, consume, lines: list) -> None:
        passed = self.passed(node, mu, left, d, lines)

        def each(right: str, d2: int) -> None:
            m, d3 = self.merged(node, left, right, d2, lines)
            consume(m, d3)

        self.operand(node.b, passed, d, each, lines)

    def left_joined(self, node, mu: str, left: str, d: int, consume, lines: list) -> None:
        found = self.name("j")
        lines.append("    " * d + f"{found} = []")
        passed = self.passed(node, mu, left, d, lines)
        expr = self.const(node.expr) if node.expr is not None else None

        def each(right: str, d2: int) -> None:
            m, d3 = self.merged(node, left, right, d2, lines)
            if expr is not None:
                lines.append("    " * d3 + f"if _passes({expr}, {m}, parts):")
                d3 += 1
            lines.append("    " * d3 + f"{found}.append({m})")

        self.operand(node.b, passed, d, each, lines)
        r = self.name("r")
        lines.append("    " * d + f"for {r} in {found} or ({left},):")
        consume(r, d + 1)
