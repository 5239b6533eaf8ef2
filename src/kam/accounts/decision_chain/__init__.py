"""The decision chain of an account (who decides, who influences, who uses)."""

from kam.accounts.decision_chain.rules import ROLE_ORDER, DecisionChain, decision_chain

__all__ = ["ROLE_ORDER", "DecisionChain", "decision_chain"]
