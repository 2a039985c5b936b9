"""The workflow engine (pure): stages, events, gates and the actions they lead to."""
