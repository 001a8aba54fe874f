"""Preloaded into the forkserver process of ``kg-reasoner serve`` only (never imported otherwise).

The forkserver outlives its server when the server is killed with SIGKILL (its liveness pipe can stay
open), and with it any query process it started. Importing this module into the forkserver asks Linux
to kill the forkserver when the server dies; every query process asks the same of the forkserver
(``endpoint.die_with_parent``), so nothing the endpoint started survives it.
"""

from __future__ import annotations

from kg_reasoner.serve.endpoint import die_with_parent

die_with_parent()
