"""One trial: sandbox + agent + verifier -> a Harbor trial dir. The floor that evaluation
(``tmax.eval``) and RL rollouts (``tmax.rl``) both stand on."""

from tmax.trial.agents import AGENTS, Agent, AgentOutcome, make_agent
from tmax.trial.runner import TrialSummary, run_trial

__all__ = ["AGENTS", "Agent", "AgentOutcome", "TrialSummary", "make_agent", "run_trial"]
