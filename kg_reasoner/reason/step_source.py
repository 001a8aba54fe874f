"""A BGP's join steps (``plans._Bgp._order``) written as Python source and compiled once per BGP and set of
variables bound on entry: nested loops over the patient's index, its variables held in local variables
until a filter test or a solution needs them in a dict. It computes what ``plans._solve`` interprets step by
step, in the same order and with the same multiplicity (a breadth-first walk over ordered lists visits the
solutions in the order of a depth-first one); the interpreter stays the reference, and a step outside the
two common kinds (a path, a variable predicate, two variables bound by one pattern) is handed to it for each
row. Generic over SPARQL: the source holds variable names and the query's constants, nothing else.

``tests/test_plans.py`` runs every plan case and every BGP call of the corpus both ways and compares the
solutions (``plans._Bgp.check_source``)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

#: the most loops one generated function nests (CPython refuses more than 20 blocks); deeper: interpreted
_MAX_LOOPS = 18


#: numbers the compiled functions' file names (a profile tells them apart)
_numbers = itertools.count(1)


class _TooDeep(Exception):
    pass


def compiled(
    steps: tuple, solve: Callable, passes: Callable, predicate_id: Callable | None = None
) -> tuple[Callable, Callable] | None:
    """(run(mu, parts) -> solutions, exists(mu, parts) -> bool) for the steps, or None when they nest too
    deep. ``solve``: the interpreter (``plans._solve``), ``passes``: ``plans._filter_passes``;
    ``predicate_id``: ``plans.predicate_id``, to skip a part that holds no triple of a lookup's predicate (most
    of a patient's parts, for the ontology's predicates), or None to look each part up."""
    out = []
    for exists in (False, True):
        w = _Writer(steps, exists, solve, passes, predicate_id)
        try:
            source = w.source()
        except _TooDeep:
            return None
        namespace = dict(w.env)
        label = f"<BGP steps {next(_numbers)}{' exists' if exists else ''}>"
        exec(compile(source, label, "exec"), namespace)  # noqa: S102
        fn = namespace["steps"]
        fn.source = source  # (for a reader, and for the tests)
        out.append(fn)
    return out[0], out[1]


class SourceWriter:
    """What a writer of generated source keeps: the globals of the functions it writes (``env``) and a counter
    for fresh names (also ``plan_source``'s)."""

    def __init__(self, env: dict):
        self.env = env
        self.count = 0

    def name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def const(self, value) -> str:
        """A constant of the query (a term, a compiled test, a step) as a global of the function."""
        key = self.name("K")
        self.env[key] = value
        return key


class _Writer(SourceWriter):
    def __init__(self, steps: tuple, exists: bool, solve: Callable, passes: Callable, predicate_id):
        super().__init__({"_solve": solve, "_passes": passes, "STEPS": steps})
        self.steps, self.exists, self.predicate_id = steps, exists, predicate_id
        self.lines: list[str] = []

    def holding(self, get: tuple) -> str:
        """The test, in a loop over the parts, that the part ``idx`` holds a triple of the step's predicate: by
        the predicate's number (``TripleIndex.pids``), when it is a constant; else none ("True")."""
        is_var, p = get[1]
        if is_var or p is None or self.predicate_id is None:
            return "True"
        return f"{self.const(self.predicate_id(p))} in idx.pids"

    def line(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def source(self) -> str:
        self.line(0, "def steps(mu, parts):")
        bound_here = {name for _get, binds, _path, _tests in self.steps for _pos, name in binds}
        values: dict = {}
        for get, _binds, _path, _tests in self.steps:
            for is_var, name in get:
                if is_var and name not in bound_here and name not in values:
                    values[name] = self.name("e")
                    self.line(1, f"{values[name]} = mu[{name!r}]")
        if values:
            # (a value None read from what is passed in would read as unbound: the interpreter handles that,
            # rarely; a None elsewhere in mu is copied into the solutions alike. Tested with ``is``: ``in
            # mu.values()`` called each pyoxigraph term's __eq__)
            self.line(1, "if " + " or ".join(f"{local} is None" for local in values.values()) + ":")
            self.line(2, "return bool(_solve(STEPS, mu, parts))" if self.exists else "return _solve(STEPS, mu, parts)")
        if not self.exists:
            self.line(1, "out = []")
            self.line(1, "append = out.append")
        self.step(0, 1, 0, "mu", [], values)
        self.line(1, "return False" if self.exists else "return out")
        return "\n".join(self.lines) + "\n"

    @staticmethod
    def as_dict(base: str, pending: list) -> str:
        if not pending:
            return base
        return "{**" + base + ", " + ", ".join(f"{name!r}: {local}" for name, local in pending) + "}"

    def tested(self, depth: int, tests: tuple, base: str, pending: list) -> tuple[int, str, list]:
        """The filter tests of a step on the row so far: (depth inside them, the row's dict, pending)."""
        if not tests:
            return depth, base, pending
        if pending:
            row = self.name("d")
            self.line(depth, f"{row} = {self.as_dict(base, pending)}")
            base, pending = row, []
        self.line(depth, "if " + " and ".join(f"_passes({self.const(t)}, {base}, parts)" for t in tests) + ":")
        return depth + 1, base, pending

    def step(self, i: int, depth: int, loops: int, base: str, pending: list, values: dict) -> None:
        if loops > _MAX_LOOPS:
            raise _TooDeep()
        if i == len(self.steps):
            self.line(depth, "return True" if self.exists else f"append({self.as_dict(base, pending)})")
            return
        get, binds, path, tests = self.steps[i]

        def term(position: int) -> str | None:
            is_var, v = get[position]
            if is_var:
                return values[v]
            return None if v is None else self.const(v)

        s, p, o = term(0), term(1), term(2)
        if path is None and p is not None and s is not None and o is not None:
            # a bound triple tested: the row once for each part holding it
            key, held = self.name("k"), self.name("h")
            self.line(depth, f"{key} = ({s}, {p})")
            self.line(depth, f"{held} = 0")
            self.line(depth, "for idx in parts:")
            self.line(depth + 1, f"if {self.holding(get)}:")
            self.line(depth + 2, f"objs = idx.sp.get({key})")
            self.line(depth + 2, f"if objs and {o} in objs:")
            self.line(depth + 3, f"{held} += 1")
            self.line(depth, f"if {held}:")
            inner, base, pending = self.tested(depth + 1, tests, base, pending)
            if self.exists:
                self.step(i + 1, inner, loops + 1, base, pending, values)
            else:
                self.line(inner, f"for _ in range({held}):")
                self.step(i + 1, inner + 1, loops + 2, base, pending, values)
            return
        if path is None and p is not None and len(binds) == 1 and (s is None) != (o is None):
            # one variable bound from a lookup: the objects of (s, p) or the subjects of (p, o)
            by_object = o is None
            key, found, local = self.name("k"), self.name("f"), self.name("v")
            self.line(depth, f"{key} = ({s}, {p})" if by_object else f"{key} = ({p}, {o})")
            self.line(depth, "for idx in parts:")
            self.line(depth + 1, f"if {self.holding(get)}:")
            self.line(depth + 2, f"{found} = idx.{'sp' if by_object else 'po'}.get({key})")
            self.line(depth + 2, f"if {found}:")
            self.line(depth + 3, f"for {local} in {found}:")
            name = binds[0][1]
            inner, base2, pending2 = self.tested(depth + 4, tests, base, [*pending, (name, local)])
            self.step(i + 1, inner, loops + 2, base2, pending2, {**values, name: local})
            return
        if (
            path is None
            and p is not None
            and s is None
            and o is None
            and len(binds) == 2
            and binds[0][1] != binds[1][1]
        ):
            # two variables bound from a scan of the predicate's pairs (``TripleIndex.p``)
            local_s, local_o = self.name("v"), self.name("v")
            self.line(depth, "for idx in parts:")
            self.line(depth + 1, f"if {self.holding(get)}:")
            self.line(depth + 2, f"for {local_s}, {local_o} in idx.p.get({p}, ()):")
            named = {0: local_s, 2: local_o}
            bound_here = [(name, named[pos]) for pos, name in binds]
            inner, base2, pending2 = self.tested(depth + 3, tests, base, [*pending, *bound_here])
            self.step(i + 1, inner, loops + 2, base2, pending2, {**values, **dict(bound_here)})
            return
        domain = getattr(path, "values", None)
        if domain is not None and len(binds) == 1 and binds[0][0] == 0 and s is None and o is None and p is None:
            # a variable bound from the few IRIs a filter keeps it to (``plans._values_of``)
            local = self.name("v")
            self.line(depth, f"for {local} in {self.const(domain)}:")
            name = binds[0][1]
            inner, base2, pending2 = self.tested(depth + 1, tests, base, [*pending, (name, local)])
            self.step(i + 1, inner, loops + 1, base2, pending2, {**values, name: local})
            return
        # anything else (a path, a variable predicate, one variable twice in a pattern): the interpreter, row by row
        row = self.name("n")
        self.line(depth, f"for {row} in _solve(({self.const(self.steps[i])},), {self.as_dict(base, pending)}, parts):")
        bound = {**values, **{name: f"{row}[{name!r}]" for _pos, name in binds}}
        self.step(i + 1, depth + 1, loops + 1, row, [], bound)
