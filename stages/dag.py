"""Generate dvc.yaml and dag/<group>/dvc.yaml from params.yaml (pipeline.dag).

    python -m stages.dag           # rewrite them
    python -m stages.dag --check   # exit 1 if any of them is out of date (CI and tests)
"""
from pipeline.dag.files import main

if __name__ == "__main__":
    main()
