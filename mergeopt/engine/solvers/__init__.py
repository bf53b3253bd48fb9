"""The solvers behind the engine: HiGHS through highspy (:mod:`.highs`, from arrays) and
PuLP as the modelling layer (:mod:`.pulp`: CBC and any other PuLP solver, readable LP and
MPS files). They import the formulation and the instance, never a strategy."""
