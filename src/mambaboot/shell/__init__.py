"""The shell side: activation scripts, run and shell, isolation from other environments, shell init, doctor."""
