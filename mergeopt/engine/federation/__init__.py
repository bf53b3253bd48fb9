r"""Two levels in one plan: practices into networks, networks into federations.

Every practice is in exactly one network (the hub formulation of
:mod:`mergeopt.engine.formulation`, families 1-12) and every network lies wholly inside one
federation: a group of networks around a **federation hub**, the hub of one of its
networks whose premises can host the federation's shared services (community
specialists, back office).

Decisions (and why)
-------------------
- **Networks are the units of a federation.** A network joins a federation whole,
  placed at its hub and weighed by its patients, in all three modes: federations of
  today's networks, of proposed networks, and the joint plan.
- **The federation travel limit runs from each network hub to the federation hub**, and
  the federation objective is each network's patients times that travel. Federation
  staff and specialists work across the network hubs, and a network's patients already
  reach their network hub; with the road model (``8.33 + 1.164 km`` per leg, so the
  triangle inequality holds) a practice is at most its network limit plus the
  federation limit from its federation hub, and the tables give each practice's own
  travel there too. Measured from every practice instead, federation boundaries may
  cut through good networks and the relaxation cannot see that price: on Somerset that
  model still had a 6% gap after 120 s, where this one is proven optimal within a
  minute.
- **A federation hub is a network hub, in its own federation** (families 13 and 15
  imply :math:`u_h \le y_h`; the joint formulation: :mod:`.model`).

Modes
-----
``today``     federations of given networks (today's PCNs): the hub formulation of
              :mod:`mergeopt.engine.formulation` over the networks as units (:func:`federate`).
``proposed``  networks first (inside federation regions), then federations of them: the
              sequential plan (:func:`solve_sequential`).
``joint``     the joint model, started from the sequential plan, so never worse; its
              bound is HiGHS's proven bound on the joint objective (:func:`solve_joint`).

Modules
-------
``plan``        the federation rules as arrays, a two-level plan's outcome, its value and
                the rules it breaks
``sequential``  federations of given networks; networks first, then their federations
``model``       the joint model as arrays (families 13-23, on the network model's 1-12)
``joint``       the joint model solved by HiGHS, region by region where it may be
``solve``       :func:`solve_federations`: a plan in one of the three modes

It may import the rest of :mod:`mergeopt.engine` (the instance, the network model, the
portfolio, HiGHS) and nothing of mergeopt outside the engine; the run layer
(:mod:`mergeopt.runs.federations`) builds the rules and reads the outcome.
"""

from mergeopt.engine.federation.joint import solve_joint
from mergeopt.engine.federation.model import JointArrays, joint_arrays
from mergeopt.engine.federation.plan import (
    FederationRules,
    Mode,
    TwoLevelOutcome,
    broken_federation_rules,
    federation_value,
    nested,
    network_loads,
    plan_feasible,
    plan_value,
    straddling,
)
from mergeopt.engine.federation.sequential import federate, solve_sequential, units_instance
from mergeopt.engine.federation.solve import solve_federations

__all__ = [
    "FederationRules",
    "JointArrays",
    "Mode",
    "TwoLevelOutcome",
    "broken_federation_rules",
    "federate",
    "federation_value",
    "joint_arrays",
    "nested",
    "network_loads",
    "plan_feasible",
    "plan_value",
    "solve_federations",
    "solve_joint",
    "solve_sequential",
    "straddling",
    "units_instance",
]
