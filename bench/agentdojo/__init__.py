"""AgentDojo through the runtime: the benchmark's suites run as Sealed
missions on the embedded stack, scored with AgentDojo's own checks, for a
stand-in model that obeys every injection it reads (`python -m bench.agentdojo`).

Needs the `agentdojo` extra; the runtime never imports this package."""
