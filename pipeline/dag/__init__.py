"""DAG generation and scheduling: params.yaml -> one DVC stage per unit -> run two at a time.

- build.py: the units of every stage group (commands, deps, params, outs) from params.yaml;
- seeds.py: the `-s<seed>` units of every training seed after the first;
- imports.py: a stage's code deps, from its imports;
- files.py: which dvc.yaml holds each group, writing and checking them (`python -m stages.dag`);
- units.py: the generated stages resolved as DVC resolves them;
- runner.py: every stage's command wrapper, which runs independent units beside DVC's (lookahead);
- plan.py: which units the lookahead may start now (DVC's plan, the scheduling rules).
"""
