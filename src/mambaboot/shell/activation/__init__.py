"""Activation: what an environment's activation changes, and (later) scripts per shell."""
