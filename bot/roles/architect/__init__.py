"""The architect: reads the issue and the repository, proposes a design a human approves."""
