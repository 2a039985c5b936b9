"""The crash suite's harness: Triad's web process and workers as real OS processes against the
GitHub simulator and the fake model server (processes too), many workflows at once, workers
killed at random and at stage boundaries; then every issue is judged against a run without
crashes (`run.CrashRun`, `verdict`)."""
